"""The frequency cap: nobody receives more than one promotion in N days, across campaigns.

N is GOTEO_FREQUENCY_DAYS (7 by default; 0 turns the cap off). Days are calendar days
in the sender's time zone: someone who received a promotion on Friday 2 January waits
through Thursday 8 January (seven days) and may receive the next one from Friday 9.

A promotion counts as received once its message is sent, being sent, or unknown (it may
have gone out). A person inside the period is never claimed (``exclude_recent``, used by
the engine's claim) and their message stays pending with the reason and the moment they
become eligible (``hold_recent``), then goes out like any other.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from goteo.conf import env_int
from goteo.models import Campaign, Message, MessageStatus

DEFAULT_DAYS = 7
RECEIVED = (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.UNKNOWN)
LOOKUP_CHUNK = 500  # phones or contacts per IN list, well under every database's limit


def frequency_days() -> int:
    """The cap's period in days: settings.GOTEO_FREQUENCY_DAYS, else the environment; 0 is off."""
    configured = getattr(settings, "GOTEO_FREQUENCY_DAYS", None)
    days = int(configured) if configured is not None else env_int("GOTEO_FREQUENCY_DAYS", DEFAULT_DAYS)
    return max(days, 0)


def period_start(now: datetime, tz: ZoneInfo, days: int) -> datetime:
    """Local midnight of the first day whose promotions still count at ``now``."""
    first = now.astimezone(tz).date() - timedelta(days=days - 1)
    return datetime.combine(first, time(0), tzinfo=tz)


def eligible_from(received_at: datetime, tz: ZoneInfo, days: int) -> datetime:
    """Local midnight ``days`` calendar days after the day a promotion was received."""
    day = received_at.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(0), tzinfo=tz)


def wait_reason(received_at: datetime, until: datetime, tz: ZoneInfo) -> str:
    """ "recibió otra promoción el 02/01; espera hasta el 09/01"."""
    return (
        f"recibió otra promoción el {received_at.astimezone(tz):%d/%m}; "
        f"espera hasta el {until.astimezone(tz):%d/%m}"
    )


def recent_promotions(campaign: Campaign, now: datetime, days: int) -> QuerySet[Message]:
    """Promotions of other campaigns received within the period (small: bounded by the caps)."""
    since = period_start(now, campaign.sender.tz, days)
    return Message.objects.filter(status__in=RECEIVED, claimed_at__gte=since).exclude(campaign_id=campaign.pk)


def recently_reached(recent: QuerySet[Message]) -> Q:
    """Messages to a phone or contact that appears in ``recent``.

    Nulls are left out of the subqueries: one NULL would make ``NOT IN`` exclude everyone.
    """
    phones = recent.filter(phone__isnull=False).values("phone")
    contacts = recent.filter(contact_id__isnull=False).values("contact_id")
    return Q(phone__in=phones) | Q(contact_id__in=contacts)


def exclude_recent(candidates: QuerySet[Message], campaign: Campaign, now: datetime) -> QuerySet[Message]:
    """``candidates`` without the people who received another promotion within the period."""
    days = frequency_days()
    if days <= 0:
        return candidates
    return candidates.exclude(recently_reached(recent_promotions(campaign, now, days)))


def held_messages(campaign: Campaign, now: datetime) -> dict[int, datetime]:
    """Pending messages of ``campaign`` held by the cap: message id -> when they may go out."""
    days = frequency_days()
    if days <= 0:
        return {}
    tz = campaign.sender.tz
    by_phone: dict[str, datetime] = {}
    by_contact: dict[int, datetime] = {}
    recent = recent_promotions(campaign, now, days)
    for phone, contact_id, at in recent.values_list("phone", "contact_id", "claimed_at"):
        if at is None:
            continue
        if phone and (phone not in by_phone or at > by_phone[phone]):
            by_phone[phone] = at
        if contact_id and (contact_id not in by_contact or at > by_contact[contact_id]):
            by_contact[contact_id] = at
    # The recent set is small (bounded by the caps), so it is looked up as literal lists on
    # the (campaign, phone) and (campaign, contact) indexes; a subquery would make SQLite
    # walk every pending message of the campaign, which is slow with a million of them.
    # The status is checked here rather than in SQL so the planner keeps to those indexes.
    held: dict[int, tuple[str | None, int | None]] = {}
    for field, keys in (("phone", list(by_phone)), ("contact_id", list(by_contact))):
        for first in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[first : first + LOOKUP_CHUNK]
            rows = (
                campaign.messages.filter(**{f"{field}__in": chunk})
                .order_by()
                .values_list("id", "phone", "contact_id", "status")
            )
            held.update(
                (message_id, (phone, contact_id))
                for message_id, phone, contact_id, status in rows
                if status == MessageStatus.PENDING
            )
    result: dict[int, datetime] = {}
    for message_id, (phone, contact_id) in held.items():
        received = [at for at in (by_phone.get(phone or ""), by_contact.get(contact_id or 0)) if at]
        if received:
            result[message_id] = max(received)
    return {message_id: eligible_from(at, tz, days) for message_id, at in result.items()}


def hold_recent(campaign: Campaign, now: datetime) -> int:
    """Keep pending the people inside the period, with the reason and when they may receive.

    Sets ``next_attempt_at`` and ``last_error`` of each held message that was due; the
    status does not change. Returns how many messages were held now.
    """
    days = frequency_days()
    if days <= 0:
        return 0
    tz = campaign.sender.tz
    held = held_messages(campaign, now)
    if not held:
        return 0
    groups: dict[datetime, list[int]] = {}
    for message_id, until in held.items():
        groups.setdefault(until, []).append(message_id)
    changed = 0
    for until, ids in groups.items():
        received = until - timedelta(days=days)
        changed += (
            Message.objects.filter(pk__in=ids, status=MessageStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=until))
            .update(next_attempt_at=until, last_error=wait_reason(received, until, tz))
        )
    return changed


def held_by_day(campaign: Campaign, now: datetime) -> Counter[date]:
    """How many pending messages the cap holds, by the local day they may go out (for forecasts)."""
    tz = campaign.sender.tz
    return Counter(until.astimezone(tz).date() for until in held_messages(campaign, now).values())
