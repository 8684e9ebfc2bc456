"""What a draft campaign would do if it were launched now: how many it reaches, when it ends.

``create_campaign``, ``start_campaign`` (before it asks) and the dashboard's form all warn
from here when the campaign cannot finish before its promotion expires. The count leaves
out whom a launch would skip (goteo.audience), and the forecast (goteo.forecast) waits for
the people the frequency cap holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet

from goteo.audience import AudienceError, audience, reachable_count
from goteo.forecast import draft_forecast, draft_waiting, expiry_warning
from goteo.models import Campaign, Contact, DailyCounter
from goteo.schedule import next_send_time


def draft_outlook(
    campaign: Campaign, contacts: QuerySet[Contact], now: datetime
) -> tuple[int, date | None, str]:
    """(messages it would queue, the day it would end, the expiry warning or "")."""
    count = reachable_count(contacts)
    if count == 0:
        return 0, None, ""
    finish = draft_forecast(campaign, count, now, draft_waiting(campaign, contacts, now))
    return count, finish, expiry_warning(finish, campaign.promotion.valid_until)


def scheduled_outlook(campaign: Campaign, now: datetime) -> tuple[datetime | None, date | None]:
    """A scheduled campaign's first send and last day, counted from its start (as launched then)."""
    start = campaign.starts_from(now)
    try:
        contacts = audience(campaign, now=start)
    except AudienceError:
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
