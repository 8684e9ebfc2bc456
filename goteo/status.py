"""Where a campaign stands: counts, the next send, and when it should finish.

Everything here reads the counters kept on the campaign and sender rows, never scans the
message table, so it stays fast with millions of messages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q

from goteo.draft import scheduled_outlook
from goteo.frequency import exclude_recent, frequency_days, has_free_pending, held_by_day, held_messages
from goteo.models import Campaign, CampaignStatus, DailyCounter
from goteo.progress import campaign_progress
from goteo.schedule import (
    describe_day,
    describe_moment,
    describe_start,
    forecast_completion,
    forecast_days,
    next_send_time,
)


def left_by_expiry(campaign: Campaign, now: datetime) -> int | None:
    """How many people a campaign whose promotion is over will never reach; None if it is not
    over, or the campaign had finished (or was cancelled) before it was.

    Until the next sending run skips them, they are still pending; after it, they are
    the messages skipped for that reason.
    """
    from goteo.models import MessageStatus, SkipReason

    if not campaign.is_expired(now):
        return None
    if campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED):
        return campaign.pending_count
    if campaign.status != CampaignStatus.COMPLETED or not campaign.skipped_count:
        return None
    left = campaign.messages.filter(status=MessageStatus.SKIPPED, skip_reason=SkipReason.EXPIRED).count()
    return left or None


def used_today(campaign: Campaign, now: datetime) -> tuple[int, int]:
    """Slots used today by the campaign and by its sender."""
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


def campaign_forecast(
    campaign: Campaign, now: datetime, held: dict[int, datetime] | None = None
) -> date | None:
    """The day the last pending message should go out at the campaign's pace.

    People the frequency cap holds now count from the day they may receive; people other
    campaigns will reach later are not foreseen, so the forecast may be early. ``held``
    is the campaign's ``held_messages`` when the caller already has them.
    """
    return forecast_completion(campaign.pending_count, now, **forecast_inputs(campaign, now, held))


def campaign_forecast_days(
    campaign: Campaign, now: datetime, held: dict[int, datetime] | None = None
) -> list[tuple[date, int]]:
    """(day, messages it should send) for each coming sending day, as ``campaign_forecast``
    counts them, up to the promotion's last day."""
    inputs = forecast_inputs(campaign, now, held)
    days = forecast_days(campaign.pending_count, now, last_day=campaign.promotion.valid_until, **inputs)
    return [(day, sent) for day, sent, _left in days]


def forecast_inputs(campaign: Campaign, now: datetime, held: dict[int, datetime] | None) -> dict[str, Any]:
    """The campaign's rules, limits and waiting people, as the forecast functions take them."""
    campaign_used, sender_used = used_today(campaign, now)
    sender = campaign.sender
    today = campaign.local_today(now)

    def cap(day: date) -> int:
        return sender.cap_on(day) - (sender_used if day == today else 0)

    return {
        "rules": campaign.sending_rules(),
        "daily_limit": campaign.daily_limit,
        "sender_cap": cap,
        "delay_seconds": campaign.delay_seconds,
        "used_today": campaign_used,
        "waiting": held_by_day(campaign, now, held),
    }


def forecast_warning(campaign: Campaign, now: datetime) -> tuple[str, date | None]:
    """A warning when the campaign cannot finish before its promotion expires."""
    forecast = campaign_forecast(campaign, now)
    valid_until = campaign.promotion.valid_until
    if campaign.pending_count == 0:
        return "", forecast
    if forecast is None or forecast > valid_until:
        finish = describe_day(forecast) if forecast else "nunca con estas reglas"
        return (
            f"Al ritmo configurado terminaría el {finish}, después del vencimiento de la "
            f"promoción ({valid_until:%d/%m/%Y}): los que queden pendientes se omitirán. "
            "Suba el límite diario o amplíe la vigencia.",
            forecast,
        )
    return "", forecast


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


def campaign_summary(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Counts, percentages, next send and forecast: what campaign_status and the dashboard show."""
    counts = campaign.counts()
    total = counts["total"]
    held = held_messages(campaign, now) if counts["pending"] else {}
    when = next_send_at(campaign, now, held)
    forecast = campaign_forecast(campaign, now, held) if campaign.status == CampaignStatus.ACTIVE else None
    if campaign.status == CampaignStatus.SCHEDULED:  # no messages yet: as if launched at its start
        when, forecast = scheduled_outlook(campaign, now)
    tz = campaign.sender.tz
    warmup = campaign.sender.warmup_stage(campaign.local_today(now))

    def pct(n: int) -> int:
        return round(100 * n / total) if total else 0

    progress = campaign_progress(counts)
    scheduled = campaign.status == CampaignStatus.SCHEDULED

    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "status_label": str(campaign.get_status_display()),
        "pause_reason": campaign.pause_reason,
        "total": total,
        "sent": counts["sent"],
        "pending": counts["pending"],
        "sending": counts["sending"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "unknown": counts["unknown"],
        "simulated": counts["simulated"],  # printed in test mode, never sent (goteo.simulation)
        "simulation": campaign.simulation,
        "percent": pct(counts["sent"]),
        "percent_simulated": progress.share(counts["simulated"]),
        "percent_pending": progress.share(counts["pending"]),
        "receivable": progress.receivable,
        "progress_percent": progress.percent,
        "next_send_at": when,
        "next_send_text": describe_moment(when, now, tz),
        "estimated_completion": forecast if counts["pending"] or scheduled else None,
        "estimated_completion_text": describe_day(forecast) if counts["pending"] or scheduled else "—",
        "start_at": campaign.start_at,
        "start_text": (
            f"empieza {describe_start(campaign.start_at, now, tz)}" if scheduled and campaign.start_at else ""
        ),
        "end_at": campaign.end_at,
        "daily_limit": campaign.daily_limit,
        "sender": campaign.sender.name,
        "frequency_held": len(held),
        "frequency_held_until": min(held.values()) if held else None,
        "warmup": warmup.describe() if warmup else "",
    }


def allowed_today(campaign: Campaign, now: datetime) -> int:
    """How many more messages the campaign may send today (caps only, not the window)."""
    campaign_used, sender_used = used_today(campaign, now)
    sender_left = campaign.sender.cap_on(campaign.local_today(now)) - sender_used
    return max(0, min(campaign.daily_limit - campaign_used, sender_left, campaign.pending_count))


def next_recipients(campaign: Campaign, now: datetime, limit: int | None = None) -> list[tuple[str, str]]:
    """(name, phone) of the people the campaign would message next today, in order."""
    from goteo.models import MessageStatus

    count = allowed_today(campaign, now) if limit is None else limit
    if count <= 0:
        return []
    due = campaign.messages.filter(status=MessageStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    rows = exclude_recent(due, campaign, now).order_by("id").values_list("contact_name", "phone")[:count]
    return [(name, phone or "") for name, phone in rows]
