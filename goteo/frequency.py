"""The frequency cap: nobody receives more than one promotion in N days, across campaigns.

N is GOTEO_FREQUENCY_DAYS (7 by default; 0 turns the cap off). Days are calendar days
in the sender's time zone: someone who received a promotion on Friday 2 January waits
through Thursday 8 January (seven days) and may receive the next one from Friday 9.

A promotion counts as received once its message is sent, being sent, or unknown (it may
have gone out): RECEIVED_SENT and RECEIVED_IN_DOUBT below say it once, and every other
form of the rule is built from them. A person inside the period is never claimed
(``not_reached_sql``, in the engine's claim). Their message stays pending; once nobody else in the campaign can be
claimed, it gets the reason and the moment they become eligible (``hold_recent``), and
then goes out like any other. Status reads (``held_messages``) count them at any time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from goteo.conf import env_int
from goteo.models import Campaign, Message, MessageStatus
from goteo.writes import write_transaction

DEFAULT_DAYS = 7
IN_DOUBT = (MessageStatus.SENDING, MessageStatus.UNKNOWN)  # may have gone out
LOOKUP_CHUNK = 2000  # people whose held messages one query looks up

# "Received another campaign's promotion within the period", written once: the two ways a
# message row {m} counts, each read on its own index. A sent one (only a send sets sent_at)
# of another campaign that started and had not finished before the period, by send time;
# one in doubt (in flight or unknown, rare) by claim time. They stay two conditions because
# PostgreSQL uses neither index for an OR of them: it walked every send of the period, the
# campaign's own included (half a second with a million messages). Everything below is
# built from these two: the list of people reached (REACHED), the claim's test of one
# person (NOT_REACHED, as SQL for the engine and as a queryset filter for exclude_recent).
RECEIVED_SENT = (
    "{m}.campaign_id IN (SELECT id FROM goteo_campaign"
    " WHERE id <> %s AND started_at IS NOT NULL AND (finished_at IS NULL OR finished_at >= %s))"
    " AND {m}.sent_at >= %s"
)
RECEIVED_IN_DOUBT = "{m}.status IN (%s, %s) AND {m}.claimed_at >= %s AND {m}.campaign_id <> %s"

# The rows of the people reached, for recently_reached: the ORM took longer to compose
# this query than the database to answer it.
REACHED = " UNION ALL ".join(
    f"SELECT phone, contact_id, sent_at, claimed_at FROM goteo_message r WHERE {condition.format(m='r')}"
    for condition in (RECEIVED_SENT, RECEIVED_IN_DOUBT)
)
# Conditions on the outer row ``goteo_message`` that its person received nothing, by phone
# and by contact, for the claim's candidate query: composing them with the ORM cost each
# claim several milliseconds of processor time, more than the database took to answer.
NOT_REACHED = "".join(
    f" AND NOT EXISTS (SELECT 1 FROM goteo_message r WHERE {condition.format(m='r')}"
    f" AND r.{key} = goteo_message.{key})"
    for key in ("phone", "contact_id")
    for condition in (RECEIVED_SENT, RECEIVED_IN_DOUBT)
)
FREE_PENDING = "SELECT 1 FROM goteo_message WHERE campaign_id = %s AND status = %s{cap} ORDER BY id LIMIT 1"


def received_params(campaign: Campaign, now: datetime, days: int) -> list[Any]:
    """The parameters of RECEIVED_SENT then RECEIVED_IN_DOUBT for ``campaign`` at ``now``."""
    since = connection.ops.adapt_datetimefield_value(period_start(now, campaign.sender.tz, days))
    own = campaign.pk or 0  # a draft being previewed has no id yet: every campaign is another
    return [own, since, since, *(status.value for status in IN_DOUBT), since, own]


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


@dataclass(frozen=True)
class Reached:
    """Who received another campaign's promotion within the period, and when (the latest)."""

    phones: dict[str, datetime]
    contacts: dict[int, datetime]

    def __bool__(self) -> bool:
        return bool(self.phones or self.contacts)

    def __len__(self) -> int:
        return len(self.phones) + len(self.contacts)


def recently_reached(campaign: Campaign, now: datetime, days: int) -> Reached:
    """The people other campaigns reached within the period, in one small query."""
    phones: dict[str, datetime] = {}
    contacts: dict[int, datetime] = {}
    with connection.cursor() as cursor:
        cursor.execute(REACHED, received_params(campaign, now, days))
        rows = cursor.fetchall()
    for phone, contact_id, sent_at, claimed_at in rows:
        at = sent_at or claimed_at
        if at is None:
            continue
        if timezone.is_naive(at):  # SQLite's, in UTC
            at = timezone.make_aware(at, connection.timezone)
        if phone and (phone not in phones or at > phones[phone]):
            phones[phone] = at
        if contact_id and (contact_id not in contacts or at > contacts[contact_id]):
            contacts[contact_id] = at
    return Reached(phones, contacts)


def not_reached_sql(campaign: Campaign, now: datetime, days: int | None = None) -> tuple[str, list[Any]]:
    """NOT_REACHED, to append to a query on ``goteo_message``, and its parameters; empty
    when the cap is off. ``days`` is the period (the setting's by default)."""
    days = frequency_days() if days is None else days
    if days <= 0:
        return "", []
    return NOT_REACHED, received_params(campaign, now, days) * 2


def exclude_recent(candidates: QuerySet[Message], campaign: Campaign, now: datetime) -> QuerySet[Message]:
    """``candidates`` (messages, unjoined) without the people who received another promotion
    within the period: NOT_REACHED, the claim's own conditions, as a filter.

    The database checks each candidate's person (NOT EXISTS on the indexes of the period's
    promotions) and a scan in id order stops at the first free one.
    """
    sql, params = not_reached_sql(campaign, now)
    if not sql:
        return candidates
    return candidates.filter(RawSQL(sql.removeprefix(" AND "), params, output_field=BooleanField()))


def has_free_pending(campaign: Campaign, now: datetime, days: int) -> bool:
    """Whether some pending message of ``campaign`` is not held by the cap.

    One query: the database walks the pending messages in id order on the (campaign,
    status, id) index, checks each person against the period's promotions, and stops at
    the first free one.
    """
    cap, params = not_reached_sql(campaign, now, days)
    with connection.cursor() as cursor:
        cursor.execute(FREE_PENDING.format(cap=cap), (campaign.pk, MessageStatus.PENDING.value, *params))
        return cursor.fetchone() is not None


def held_messages(campaign: Campaign, now: datetime) -> dict[int, datetime]:
    """Pending messages of ``campaign`` held by the cap: message id -> when they may go out.

    Starts from the period's promotions (few: bounded by the caps) and finds the people's
    messages in the campaign through its (campaign, phone) and (campaign, contact) unique
    indexes, a few thousand at a time, so the cost does not grow with the campaign's size.
    """
    days = frequency_days()
    if days <= 0:
        return {}
    reached = recently_reached(campaign, now, days)
    # The status is checked here, not in the query: with it, SQLite walked every pending
    # message on the (campaign, status) index instead of looking the people up.
    messages = campaign.messages.order_by()
    pending = MessageStatus.PENDING.value
    latest: dict[int, datetime] = {}
    for key, people in (("phone", list(reached.phones)), ("contact_id", list(reached.contacts))):
        for start in range(0, len(people), LOOKUP_CHUNK):
            rows = messages.filter(**{f"{key}__in": people[start : start + LOOKUP_CHUNK]})
            for message_id, phone, contact_id, status in rows.values_list(
                "id", "phone", "contact_id", "status"
            ):
                if status != pending:
                    continue
                times = (reached.phones.get(phone or ""), reached.contacts.get(contact_id or 0))
                latest[message_id] = max(at for at in times if at)
    tz = campaign.sender.tz
    return {message_id: eligible_from(at, tz, days) for message_id, at in latest.items()}


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
    with write_transaction():
        for until, ids in groups.items():
            received = until - timedelta(days=days)
            changed += (
                Message.objects.filter(pk__in=ids, status=MessageStatus.PENDING)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=until))
                .update(next_attempt_at=until, last_error=wait_reason(received, until, tz))
            )
    return changed


def held_by_day(campaign: Campaign, now: datetime, held: dict[int, datetime] | None = None) -> Counter[date]:
    """How many pending messages the cap holds, by the local day they may go out (for forecasts).

    ``held`` reuses a ``held_messages`` lookup already made.
    """
    tz = campaign.sender.tz
    held = held_messages(campaign, now) if held is None else held
    return Counter(until.astimezone(tz).date() for until in held.values())
