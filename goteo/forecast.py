"""What a campaign will do next: when its next message may go out, how many go out each day,
the day it ends, and whether that is after its promotion expires.

One pace (``pace``: the campaign's rules, limits, what was used today and whom the frequency
cap holds) feeds every forecast, for a launched campaign and for a draft alike. Everything
reads the counters kept on the campaign and sender rows, never scans the message table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from goteo.audience import sendable
from goteo.frequency import (
    eligible_from,
    exclude_recent,
    frequency_days,
    has_free_pending,
    held_by_day,
    held_messages,
    recently_reached,
)
from goteo.models import Campaign, CampaignStatus, Contact, DailyCounter, MessageStatus, SkipReason
from goteo.schedule import SendingRules, describe_day, forecast_completion, forecast_days, next_send_time


def used_today(campaign: Campaign, now: datetime) -> tuple[int, int]:
    """Slots used today by the campaign and by its sender (a draft has used none)."""
    return used_today_by([campaign], now)[campaign.pk]


def used_today_by(campaigns: list[Campaign], now: datetime) -> dict[int, tuple[int, int]]:
    """``used_today`` of each campaign, by campaign id, in one query."""
    days = {c.pk: c.local_today(now) for c in campaigns}
    wanted = {(scope, days[c.pk]) for c in campaigns for scope in (c.counter_scope, c.sender.counter_scope)}
    used = DailyCounter.used_by(wanted)
    return {
        c.pk: (used.get((c.counter_scope, days[c.pk]), 0), used.get((c.sender.counter_scope, days[c.pk]), 0))
        for c in campaigns
    }


@dataclass(frozen=True)
class Pace:
    """What a campaign's sending days are made of, as the forecast functions take it."""

    rules: SendingRules
    daily_limit: int
    sender_cap: Callable[[date], int]
    delay_seconds: float
    used_today: int
    waiting: Counter[date]  # people the frequency cap holds, by the day they are free

    def finish(self, count: int, now: datetime) -> date | None:
        """The day the last of ``count`` messages should go out; None if never."""
        return forecast_completion(
            count,
            now,
            self.rules,
            daily_limit=self.daily_limit,
            sender_cap=self.sender_cap,
            delay_seconds=self.delay_seconds,
            used_today=self.used_today,
            waiting=self.waiting,
        )

    def days(self, count: int, now: datetime, last_day: date | None) -> list[tuple[date, int]]:
        """(day, messages it should send) for each coming sending day up to ``last_day``."""
        days = forecast_days(
            count,
            now,
            self.rules,
            daily_limit=self.daily_limit,
            sender_cap=self.sender_cap,
            delay_seconds=self.delay_seconds,
            used_today=self.used_today,
            last_day=last_day,
            waiting=self.waiting,
        )
        return [(day, sent) for day, sent, _left in days]


def pace(campaign: Campaign, now: datetime, waiting: Counter[date]) -> Pace:
    """The campaign's pace at ``now``: its rules and limits, less what was used today."""
    campaign_used, sender_used = used_today(campaign, now)
    sender = campaign.sender
    today = campaign.local_today(now)

    def cap(day: date) -> int:
        return sender.cap_on(day) - (sender_used if day == today else 0)

    return Pace(
        campaign.sending_rules(), campaign.daily_limit, cap, campaign.delay_seconds, campaign_used, waiting
    )


def campaign_forecast(
    campaign: Campaign, now: datetime, held: dict[int, datetime] | None = None
) -> date | None:
    """The day the last pending message should go out at the campaign's pace.

    People the frequency cap holds now count from the day they may receive; people other
    campaigns will reach later are not foreseen, so the forecast may be early. ``held``
    is the campaign's ``held_messages`` when the caller already has them.
    """
    return pace(campaign, now, held_by_day(campaign, now, held)).finish(campaign.pending_count, now)


def campaign_forecast_days(
    campaign: Campaign, now: datetime, held: dict[int, datetime] | None = None
) -> list[tuple[date, int]]:
    """(day, messages it should send) for each coming sending day, as ``campaign_forecast``
    counts them, up to the promotion's last day."""
    daily = pace(campaign, now, held_by_day(campaign, now, held))
    return daily.days(campaign.pending_count, now, campaign.promotion.valid_until)


def draft_waiting(campaign: Campaign, contacts: QuerySet[Contact], now: datetime) -> Counter[date]:
    """How many of a draft's ``contacts`` the frequency cap would hold, by the day they are free."""
    days = frequency_days()
    if days <= 0:
        return Counter()
    reached = recently_reached(campaign, now, days)
    if not reached:
        return Counter()
    tz = campaign.sender.tz
    waiting: Counter[date] = Counter()
    rows = sendable(contacts).filter(Q(pk__in=list(reached.contacts)) | Q(phone__in=list(reached.phones)))
    counted: set[str] = set()
    for pk, phone in rows.values_list("pk", "phone"):
        if phone in counted:
            continue
        counted.add(phone)
        received = max(at for at in (reached.contacts.get(pk), reached.phones.get(phone)) if at)
        waiting[eligible_from(received, tz, days).date()] += 1
    return waiting


def draft_forecast(
    campaign: Campaign, count: int, now: datetime, waiting: Counter[date] | None = None
) -> date | None:
    """The day the last of ``count`` messages would go out if launched at ``now``; None if never."""
    return pace(campaign, now, waiting or Counter()).finish(count, now)


def expiry_warning(finish: date | None, valid_until: date | None, *, finish_said: bool = False) -> str:
    """A warning when ``finish`` comes after the promotion expires (or never comes), else "".

    ``finish_said``: the sentence just before said the finish day, so this one refers to it.
    """
    if valid_until is None or (finish is not None and finish <= valid_until):
        return ""
    values = {"fecha": f"{valid_until:%d/%m/%Y}", "dia": describe_day(finish) if finish else ""}
    if finish_said:
        text = _(
            "Eso es después del vencimiento de la promoción (%(fecha)s): los que queden pendientes "
            "se omitirán. Suba el límite diario o amplíe la vigencia."
        )
    elif finish is None:
        text = _(
            "Al ritmo configurado no terminaría nunca, después del vencimiento de la promoción "
            "(%(fecha)s): los que queden pendientes se omitirán. Suba el límite diario o amplíe la vigencia."
        )
    else:
        text = _(
            "Al ritmo configurado terminaría el %(dia)s, después del vencimiento de la promoción "
            "(%(fecha)s): los que queden pendientes se omitirán. Suba el límite diario o amplíe la vigencia."
        )
    return text % values


def forecast_warning(campaign: Campaign, now: datetime) -> tuple[str, date | None]:
    """The campaign's forecast, and ``expiry_warning`` for it while it has messages pending."""
    forecast = campaign_forecast(campaign, now)
    if campaign.pending_count == 0:
        return "", forecast
    return expiry_warning(forecast, campaign.promotion.valid_until), forecast


def left_by_expiry(campaign: Campaign, now: datetime) -> int | None:
    """How many people a campaign whose promotion is over will never reach; None if it is not
    over, or the campaign had finished (or was cancelled) before it was.

    Until the next sending run skips them, they are still pending; after it, they are
    the messages skipped for that reason.
    """
    if not campaign.is_expired(now):
        return None
    if campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        return campaign.pending_count
    if campaign.status != CampaignStatus.COMPLETED or not campaign.skipped_count:
        return None
    left = campaign.messages.filter(status=MessageStatus.SKIPPED, skip_reason=SkipReason.EXPIRED).count()
    return left or None


def all_held_until(
    campaign: Campaign, now: datetime, held: dict[int, datetime] | None = None
) -> datetime | None:
    """When the first person is free, if the frequency cap holds everyone left; else None.

    Asks first whether any pending message is free (one query that stops at the first),
    so the held messages are looked up only when nobody is. ``held`` reuses a lookup
    already made.
    """
    days = frequency_days()
    if campaign.pending_count <= 0 or days <= 0:
        return None
    if held is None:
        if has_free_pending(campaign, now, days):
            return None
        held = held_messages(campaign, now)
    if held and len(held) >= campaign.pending_count:
        return min(held.values())
    return None


def next_send_at(
    campaign: Campaign,
    now: datetime,
    held: dict[int, datetime] | None = None,
    used: tuple[int, int] | None = None,
) -> datetime | None:
    """When this campaign's next message may go out, or None if it will not send.

    ``held`` is the campaign's ``held_messages`` and ``used`` its ``used_today``, when the
    caller already has them.
    """
    if campaign.status != CampaignStatus.ACTIVE or campaign.pending_count <= 0:
        return None
    if campaign.is_expired(now):
        return None
    sender = campaign.sender
    campaign_used, sender_used = used or used_today(campaign, now)
    today_full = campaign_used >= campaign.daily_limit or sender_used >= sender.cap_on(
        campaign.local_today(now)
    )
    not_before = sender.next_send_at
    if sender.paused_until and (not_before is None or sender.paused_until > not_before):
        not_before = sender.paused_until
    first = all_held_until(campaign, now, held)
    if first is not None:
        not_before = first if not_before is None or first > not_before else not_before
    return next_send_time(now, campaign.sending_rules(), today_full=today_full, not_before=not_before)


def allowed_today(campaign: Campaign, now: datetime) -> int:
    """How many more messages the campaign may send today (caps only, not the window)."""
    campaign_used, sender_used = used_today(campaign, now)
    sender_left = campaign.sender.cap_on(campaign.local_today(now)) - sender_used
    return max(0, min(campaign.daily_limit - campaign_used, sender_left, campaign.pending_count))


def next_recipients(campaign: Campaign, now: datetime, limit: int | None = None) -> list[tuple[str, str]]:
    """(name, phone) of the people the campaign would message next today, in order."""
    count = allowed_today(campaign, now) if limit is None else limit
    if count <= 0:
        return []
    due = campaign.messages.filter(status=MessageStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    rows = exclude_recent(due, campaign, now).order_by("id").values_list("contact_name", "phone")[:count]
    return [(name, phone or "") for name, phone in rows]
