"""What a draft campaign would do if it were launched now: how many it reaches, when it ends.

``create_campaign``, ``start_campaign`` (before it asks) and the dashboard's form all warn
from here when the campaign cannot finish before its promotion expires. The count leaves
out whom a launch would skip (no consent, opted out, no phone, on an exclusion list, a
phone counted once), and the forecast waits for the people the frequency cap holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from goteo.frequency import eligible_from, frequency_days, recently_reached
from goteo.models import Campaign, Contact, DailyCounter, ExcludedPhone
from goteo.schedule import describe_day, forecast_completion, next_send_time


def sendable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts a launch would message: consenting, not opted out, a phone, not excluded.

    A phone someone opted out from is left out for everyone sharing it, as the launch does.
    """
    opted_out_phones = Contact.objects.filter(opted_out=True).exclude(phone="").values("phone")
    return (
        contacts.filter(consent=True, opted_out=False)
        .exclude(phone="")
        .exclude(phone__in=ExcludedPhone.objects.values("phone"))
        .exclude(phone__in=opted_out_phones)
    )


def reachable_count(contacts: QuerySet[Contact]) -> int:
    """How many messages a launch would queue: one per distinct phone."""
    return sendable(contacts).values("phone").distinct().count()


def frequency_waiting(campaign: Campaign, contacts: QuerySet[Contact], now: datetime) -> Counter[date]:
    """How many of ``contacts`` the frequency cap would hold, by the day they become free."""
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
    sender = campaign.sender
    today = sender.local_day(now)
    sender_used = DailyCounter.used_on(sender.counter_scope, today)
    return forecast_completion(
        count,
        now,
        campaign.sending_rules(),
        daily_limit=campaign.daily_limit,
        sender_cap=lambda day: sender.cap_on(day) - (sender_used if day == today else 0),
        delay_seconds=campaign.delay_seconds,
        waiting=waiting,
    )


def expiry_warning(finish: date | None, valid_until: date | None) -> str:
    """A warning when ``finish`` comes after the promotion expires (or never comes)."""
    if valid_until is None or (finish is not None and finish <= valid_until):
        return ""
    when = f"terminaría el {describe_day(finish)}" if finish else "no terminaría nunca"
    return (
        f"Al ritmo configurado {when}, después del vencimiento de la promoción "
        f"({valid_until:%d/%m/%Y}): los que queden pendientes se omitirán. Suba el límite diario "
        "o amplíe la vigencia."
    )


def draft_outlook(
    campaign: Campaign, contacts: QuerySet[Contact], now: datetime
) -> tuple[int, date | None, str]:
    """(messages it would queue, the day it would end, the expiry warning or "")."""
    count = reachable_count(contacts)
    if count == 0:
        return 0, None, ""
    finish = draft_forecast(campaign, count, now, frequency_waiting(campaign, contacts, now))
    return count, finish, expiry_warning(finish, campaign.promotion.valid_until)


def scheduled_outlook(campaign: Campaign, now: datetime) -> tuple[datetime | None, date | None]:
    """A scheduled campaign's first send and last day, counted from its start (as launched then)."""
    start = campaign.starts_from(now)
    try:
        contacts = campaign.audience_contacts()
    except ValueError:
        return None, None
    _count, finish, _warning = draft_outlook(campaign, contacts, start)
    return first_day(campaign, start).when, finish


@dataclass(frozen=True)
class FirstDay:
    """A draft's first sending moment, how many the caps let out that day, and which cap."""

    when: datetime | None
    count: int
    limited_by: str

    def capped(self, sendable: int) -> FirstDay:
        """The same day when only ``sendable`` people can receive the campaign."""
        if sendable < self.count:
            return FirstDay(self.when, sendable, "todos los que pueden recibirla")
        return self


def first_day(campaign: Campaign, now: datetime) -> FirstDay:
    """If launched at ``now``: when its first message goes out and how many the caps let out
    that day: the least of the campaign's daily limit and what the number may still send (its
    own cap, warm-up included, less what other campaigns sent today). ``limited_by`` names
    the cap that limits it, in Spanish.
    """
    sender = campaign.sender
    today = sender.local_day(now)
    used = DailyCounter.used_on(sender.counter_scope, today)
    braked = sender.paused_until if sender.is_braked(now) else None
    when = next_send_time(
        now, campaign.sending_rules(), today_full=used >= sender.cap_on(today), not_before=braked
    )
    if when is None:
        return FirstDay(None, 0, "no hay un día de envío con estas reglas")
    day = sender.local_day(when)
    cap = sender.cap_on(day)
    used_that_day = used if day == today else 0
    warmup = ", en calentamiento" if sender.warmup_stage(day) else ""
    already = f", ya envió {used_that_day} hoy" if used_that_day else ""
    limits = [
        (campaign.daily_limit, f"límite diario de la campaña ({campaign.daily_limit})"),
        (max(0, cap - used_that_day), f"máximo diario del número {sender.name} ({cap}{warmup}{already})"),
    ]
    count, label = min(limits, key=lambda limit: limit[0])  # the campaign's limit on a tie
    return FirstDay(when, count, label)
