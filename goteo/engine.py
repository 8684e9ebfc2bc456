"""The sending engine: claim one message, send it, record what happened.

The protocol keeps goteo's three promises under concurrency and crashes:

* never twice: a message is claimed with a compare-and-set ``pending -> sending`` that
  is committed before the provider is called, and no transaction is held across the
  call. A message whose outcome is not known (a timeout after the request left, a 5xx,
  a crash) becomes ``unknown`` and is never retried automatically.
* never lost: every message ends sent, failed, skipped or unknown, or stays pending
  with a reason (window, cap, backoff).
* never over a cap: the sender's and the campaign's slots for the day are reserved with
  conditional increments in the claim transaction, and given back only when the message
  definitely did not go out.
"""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections, transaction
from django.db.models import F, QuerySet

from goteo import health
from goteo.clock import Clock, SystemClock
from goteo.frequency import hold_recent, not_reached_sql
from goteo.models import (
    Campaign,
    CampaignStatus,
    Contact,
    DailyCounter,
    Message,
    MessageEvent,
    MessageStatus,
    Sender,
    SkipReason,
)
from goteo.phones import mask_phone
from goteo.safeguards import apply_safeguards
from goteo.schedule import end_of_day
from goteo.status import is_expired, sending_rules
from goteo.templating import Variables
from goteo.transports import ConfigurationError, OutgoingMessage, SendError, Transport, transport_for
from goteo.writes import write_transaction

log = logging.getLogger("goteo.engine")

PENDING, SENDING, SENT = MessageStatus.PENDING.value, MessageStatus.SENDING.value, MessageStatus.SENT.value

JITTER = 0.3  # each pause is the delay times a random factor in [0.7, 1.3]
BASE_BACKOFF_SECONDS = 60
CAMPAIGNS_SECONDS = 5.0  # how long a sender's campaign rows are reused between claims

# The columns of a claimed message that its outgoing message is built from.
OUTGOING_FIELDS = ("id", "contact_name", "phone", "rendered_text", "uuid", "attempts")

# The statements every message runs, written as SQL: the ORM spends about 200 µs of CPU
# composing each one, ten times what running it costs, and with hundreds of messages a
# second sharing one core (the GIL) that was most of the worker's time. Each names the
# model method whose meaning it keeps; everything else goes through the ORM.
PACE_SENDER = (  # the claim's conditional update of the sender's row
    "UPDATE goteo_sender SET next_send_at = %s WHERE id = %s AND is_active"
    " AND (next_send_at IS NULL OR next_send_at <= %s) AND (paused_until IS NULL OR paused_until <= %s)"
)
TAKE_SLOT = (  # DailyCounter.reserve, once the day's row exists
    "UPDATE goteo_dailycounter SET used = used + 1 WHERE scope = %s AND day = %s AND used < %s"
)
CLAIM_MESSAGE = (
    "UPDATE goteo_message SET status = %s, claim_token = %s, claimed_by = %s, claimed_at = %s,"
    " quota_day = %s, attempts = attempts + 1 WHERE id = %s AND status = %s"
)
SHIFT_IF_ACTIVE = (  # Campaign.shift_count(pending -> sending), only while the campaign is active
    "UPDATE goteo_campaign SET pending_count = pending_count - 1, sending_count = sending_count + 1"
    " WHERE id = %s AND status = %s"
)
# PostgreSQL: CLAIM_MESSAGE, SHIFT_IF_ACTIVE and the claim's event as one statement; true
# only if both the message and the campaign were taken (else the claim rolls it back).
CLAIM_AT_ONCE = (
    "WITH m AS (UPDATE goteo_message SET status = %s, claim_token = %s, claimed_by = %s, claimed_at = %s,"
    " quota_day = %s, attempts = attempts + 1 WHERE id = %s AND status = %s RETURNING id),"
    " c AS (UPDATE goteo_campaign SET pending_count = pending_count - 1, sending_count = sending_count + 1"
    " WHERE id = %s AND status = %s AND EXISTS (SELECT 1 FROM m) RETURNING id),"
    " e AS (INSERT INTO goteo_messageevent (message_id, at, from_status, to_status, actor, detail)"
    " SELECT id, %s, %s, %s, %s, '' FROM m WHERE EXISTS (SELECT 1 FROM c))"
    " SELECT EXISTS (SELECT 1 FROM c)"
)
MARK_SENT = (
    "UPDATE goteo_message SET status = %s, sent_at = %s, finished_at = %s, provider_message_id = %s,"
    " last_error = '' WHERE id = %s AND status = %s AND claim_token = %s"
)
SHIFT_SENT = (  # Campaign.shift_count(sending -> sent)
    "UPDATE goteo_campaign SET sending_count = sending_count - 1, sent_count = sent_count + 1 WHERE id = %s"
)
# PostgreSQL: mark_sent as one statement (no transaction to open and commit), returning
# the campaign's pending and sending counts after it, or no row if the message was not
# ours to mark.
RECORD_SENT = (
    "WITH m AS (UPDATE goteo_message SET status = %s, sent_at = %s, finished_at = %s,"
    " provider_message_id = %s, last_error = '' WHERE id = %s AND status = %s AND claim_token = %s"
    " RETURNING id, campaign_id),"
    " c AS (UPDATE goteo_campaign SET sending_count = sending_count - 1, sent_count = sent_count + 1"
    " WHERE id = (SELECT campaign_id FROM m) RETURNING pending_count, sending_count),"
    " e AS (INSERT INTO goteo_messageevent (message_id, at, from_status, to_status, actor, detail)"
    " SELECT id, %s, %s, %s, %s, %s FROM m)"
    " SELECT pending_count, sending_count FROM c"
)
COMPLETE = (  # Campaign.complete_if_done
    "UPDATE goteo_campaign SET status = %s, finished_at = %s"
    " WHERE id = %s AND status = %s AND pending_count = 0 AND sending_count = 0"
)
NEXT_PENDING = (  # next_candidate's query; frequency.not_reached_sql adds the cap's conditions
    "SELECT id, contact_name, phone, rendered_text, uuid, attempts FROM goteo_message"
    " WHERE campaign_id = %s AND status = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s)"
    " AND id > %s{cap} ORDER BY id LIMIT 1"
)
# PostgreSQL: the person a candidate is for, held until the claim commits, so that two
# campaigns (on two numbers, in two workers) cannot both pass the frequency cap for the
# same person at the same moment. A try-lock: a person another claim holds is skipped.
HOLD_PERSON = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended(phone, 0))"
    " AND (contact_id IS NULL OR pg_try_advisory_xact_lock(%s, (contact_id %% 2147483647)::integer))"
    " FROM goteo_message WHERE id = %s"
)
CONTACT_LOCKS = 0x676F  # the contact locks' namespace (key1 of the two-key form; ids fold into key2)
STILL_FREE = "SELECT 1 FROM goteo_message WHERE id = %s{cap}"
PERSON_TRIES = 5  # candidates a claim looks at before leaving the campaign for its next turn
LOG_EVENT = (
    "INSERT INTO goteo_messageevent (message_id, at, from_status, to_status, actor, detail)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)


def jittered(delay_seconds: float, rng: random.Random) -> float:
    """The pause after a send: the campaign's delay with random jitter proportional to it."""
    if delay_seconds <= 0:
        return 0.0
    return delay_seconds * rng.uniform(1 - JITTER, 1 + JITTER)


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    """How long a message that was definitely not sent waits before its next attempt."""
    if retry_after is not None:
        return max(retry_after, 1.0)
    return BASE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def execute(sql: str, *params: Any) -> int:
    """Run one statement on this thread's connection; how many rows it touched."""
    return statement(sql, params, lambda cursor: cursor.rowcount)


def fetch_one(sql: str, params: Sequence[Any], *, prepare: bool = True) -> tuple | None:
    """The first row of a query on this thread's connection, or None.

    ``prepare=False`` for a query whose best plan depends on its parameters.
    """
    return statement(sql, params, lambda cursor: cursor.fetchone(), prepare=prepare)


PREPARE_ONLY_WHEN_ASKED = 2**31 - 1  # a threshold no query reaches on its own


def statement(sql: str, params: Sequence[Any], read: Callable[[Any], Any], *, prepare: bool = True) -> Any:
    """Run one of the engine's statements on this thread's connection; ``read(cursor)``.

    On PostgreSQL through a server-side binding cursor, so that each statement is
    prepared once per connection and then only executed: Django's cursors bind on the
    client and cannot prepare, and planning took longer than running (half of the
    claim's time). On SQLite straight on the driver's connection, with the placeholders
    converted once per statement: Django's cursor wrappers cost three times what SQLite
    takes to run these statements. Errors are Django's either way, and the statement is
    logged as Django logs its own (DEBUG, tests).
    """
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of ``connection`` is a thread-local lookup
    if db.vendor not in ("postgresql", "sqlite"):
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return read(cursor)
    db.ensure_connection()
    raw = db.connection
    started = time.monotonic()
    if db.vendor == "sqlite":
        with db.wrap_database_errors:
            result = read(raw.execute(qmark(sql), params))
    else:
        import psycopg

        if raw.prepare_threshold is None:  # Django turns preparing off; then only prepare=True prepares
            raw.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
        with db.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=prepare)
            result = read(cursor)
    if db.queries_logged:
        db.queries_log.append({"sql": f"{sql} {list(params)!r}", "time": f"{time.monotonic() - started:.3f}"})
    return result


@lru_cache(maxsize=256)
def qmark(sql: str) -> str:
    """``sql`` with Django's ``%s`` placeholders as SQLite's ``?`` (and ``%%`` as ``%``)."""
    return re.sub(r"(?<!%)%s", "?", sql).replace("%%", "%")


def db_time(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def db_uuid(value: uuid.UUID) -> Any:
    return Message._meta.get_field("claim_token").get_db_prep_value(value, connection)


def take_slot(scope: str, day: date, cap: int) -> bool:
    """DailyCounter.reserve, in one statement when the day's row exists (all but the first)."""
    if cap > 0 and execute(TAKE_SLOT, scope, connection.ops.adapt_datefield_value(day), cap) == 1:
        return True
    return DailyCounter.reserve(scope, day, cap)


@dataclass
class Claim:
    """A message this worker owns until it records the outcome."""

    message_id: int
    token: uuid.UUID
    campaign: Campaign
    sender: Sender
    quota_day: date
    attempts: int
    outgoing: OutgoingMessage
    paced_until: datetime | None = None  # when the sender may send again, as the claim wrote it


@dataclass
class Wait:
    """Nothing can be claimed before ``until`` (pacing, backoff or a closed window)."""

    until: datetime | None
    reason: str


@dataclass
class RunSummary:
    """What a run did, for the command's output and its --json summary."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    skipped: int = 0
    swept: int = 0
    expired: int = 0
    disconnected: list[str] = field(default_factory=list)
    braked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disconnected

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "unknown": self.unknown,
            "skipped": self.skipped,
            "swept": self.swept,
            "expired": self.expired,
            "disconnected": self.disconnected,
            "braked": self.braked,
            "notes": self.notes,
        }


class Engine:
    """Sends what is allowed now, one message at a time, for the given campaigns.

    ``clock`` supplies the time and the sleeps; ``max_wait`` is the longest pause the run
    waits through before returning (pacing between messages); ``report`` receives one
    line of text per event for the command's output.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        worker_name: str | None = None,
        max_wait: float = 120.0,
        report: Callable[[str], None] | None = None,
        rng: random.Random | None = None,
        transport_factory: Callable[[Sender], Transport] = transport_for,
    ) -> None:
        self.clock = clock or SystemClock()
        self.worker_name = worker_name or default_worker_name()
        self.max_wait = max_wait
        self.report = report or (lambda line: None)
        self.rng = rng or random.Random()
        self.transport_factory = transport_factory
        self.shutdown = False
        self.is_postgres = connection.vendor == "postgresql"
        # sender id and campaign ids -> (read at, the sender's active campaigns); the worker
        # shares one among its threads, since a sender's steps run on any of them.
        self.campaign_cache: dict[tuple[int, tuple[int, ...] | None], tuple[datetime, list[Campaign]]] = {}
        self.in_flight: dict[int, uuid.UUID] = {}  # message id -> claim token, between claim and record
        self.passed_over: set[int] = set()  # campaigns whose claim skipped people the cap holds

    # --- the run --------------------------------------------------------------------
    def run(self, campaign_ids: Iterable[int] | None = None) -> RunSummary:
        """Send everything allowed now for the active campaigns, then return."""
        summary = RunSummary()
        ids = list(campaign_ids) if campaign_ids is not None else None
        now = self.clock.now()
        summary.swept = self.sweep_stale(now)
        summary.expired = self.expire_campaigns(now, ids)
        apply_safeguards(now, ids, summary, self.report)  # legal profile, senders' risk
        for sender in self.senders_with_work(ids):
            if self.shutdown:
                break
            self.run_sender(sender, ids, summary)
        return summary

    def senders_with_work(
        self, campaign_ids: list[int] | None, *, besides: Iterable[int] = ()
    ) -> list[Sender]:
        """Active senders with an active campaign that has work, except the ``besides`` ids."""
        campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE, pending_count__gt=0)
        if campaign_ids is not None:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        senders = Sender.objects.filter(campaigns__in=campaigns, is_active=True).exclude(pk__in=list(besides))
        return list(senders.distinct())

    def active_campaigns(self, sender: Sender, campaign_ids: list[int] | None) -> list[Campaign]:
        campaigns = (
            Campaign.objects.filter(sender=sender, status=CampaignStatus.ACTIVE, pending_count__gt=0)
            .select_related("promotion", "sender")
            .order_by("id")
        )
        if campaign_ids is not None:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        return list(campaigns)

    def connect(self, sender: Sender, summary: RunSummary) -> Transport | None:
        """The sender's transport if it can send now; otherwise note why and return None."""
        try:
            transport = self.transport_factory(sender)
            # Cached, so frequent cron runs stay within the provider's request budget;
            # a quality signal in the answer brakes the sender.
            status = health.sender_status(sender, self.clock.now(), transport=transport)
        except ConfigurationError as exc:
            summary.disconnected.append(f"{sender.name}: {exc}")
            self.report(f"✖ {sender.name}: configuración inválida: {exc}")
            return None
        if not status.connected:
            summary.disconnected.append(f"{sender.name}: {status.detail}")
            self.report(f"✖ {sender.name}: WhatsApp no está conectado ({status.detail}); no se envía nada.")
            return None
        return transport

    def run_sender(self, sender: Sender, campaign_ids: list[int] | None, summary: RunSummary) -> None:
        """Send for one sender until nothing more is allowed within ``max_wait``."""
        now = self.clock.now()
        if sender.is_braked(now):
            summary.notes.append(f"{sender.name}: frenado ({sender.pause_reason})")
            return
        campaigns = self.active_campaigns(sender, campaign_ids)
        if not any(self.can_send_now(c, now) for c in campaigns):
            return
        transport = self.connect(sender, summary)
        if transport is None:
            return
        try:
            while not self.shutdown:
                outcome = self.step(sender, transport, campaign_ids, summary)
                if outcome is None:
                    continue
                if outcome.reason == "stop" or outcome.until is None:
                    break
                wait = (outcome.until - self.clock.now()).total_seconds()
                if wait > self.max_wait:
                    break
                self.pause(wait)
        finally:
            transport.close()

    def can_send_now(self, campaign: Campaign, now: datetime) -> bool:
        return sending_rules(campaign).is_open(now) and not is_expired(campaign, now)

    def step(
        self,
        sender: Sender,
        transport: Transport,
        campaign_ids: list[int] | None,
        summary: RunSummary,
    ) -> Wait | None:
        """Claim, send and record one message; returns when the sender may go on.

        After a message was handled, Wait(reason "handled") until the pacing its claim
        wrote, or None when the next step should look at once (its campaign may be done);
        otherwise the Wait that kept it from claiming.
        """
        now = self.clock.now()
        campaigns = [
            c for c in self.sending_campaigns(sender, campaign_ids, now) if self.can_send_now(c, now)
        ]
        if not campaigns:
            self.forget_campaigns(sender)
            return Wait(None, "window")
        claim = self.claim(sender, campaigns, now)
        if isinstance(claim, Wait):
            self.forget_campaigns(sender)  # nothing to claim: the next step reads them afresh
            return claim
        self.in_flight[claim.message_id] = claim.token
        try:
            provider_id = transport.send(claim.outgoing)
        except SendError as exc:
            stop = self.record_failure(claim, exc, summary)
            if stop is not None:
                return stop
        else:
            self.record_sent(claim, provider_id, summary)
        finally:
            self.in_flight.pop(claim.message_id, None)
        if claim.paced_until is None or claim.campaign.pending_count <= 0:
            return None  # the next step finds out at once whether anything is left
        return Wait(claim.paced_until, "handled")

    def sending_campaigns(
        self, sender: Sender, campaign_ids: list[int] | None, now: datetime
    ) -> list[Campaign]:
        """The sender's active campaigns with work, read again once they are CAMPAIGNS_SECONDS
        old or one of them may have run out.

        Reusing them spares a three-table read per message. The claim itself checks that
        the campaign is still active, so a pause or a cancellation takes effect at once;
        other edits (window, limit, delay) within a few seconds.
        """
        key = (sender.pk, tuple(campaign_ids) if campaign_ids is not None else None)
        read_at, campaigns = self.campaign_cache.get(key, (None, []))
        fresh = read_at is not None and timedelta(0) <= now - read_at <= timedelta(seconds=CAMPAIGNS_SECONDS)
        if fresh and all(c.status == CampaignStatus.ACTIVE and c.pending_count > 0 for c in campaigns):
            return campaigns
        campaigns = self.active_campaigns(sender, campaign_ids)
        self.campaign_cache[key] = (now, campaigns)
        return campaigns

    def forget_campaigns(self, sender: Sender) -> None:
        # list() copies the keys at once: other threads of the worker add theirs meanwhile.
        for key in list(self.campaign_cache):
            if key[0] == sender.pk:
                self.campaign_cache.pop(key, None)

    def pause(self, seconds: float) -> None:
        """Sleep in slices of at most one second so a shutdown request is honoured at once."""
        remaining = seconds
        while remaining > 0 and not self.shutdown:
            chunk = min(1.0, remaining)
            self.clock.sleep(chunk)
            remaining -= chunk

    # --- claim ------------------------------------------------------------------------
    def claim(self, sender: Sender, campaigns: list[Campaign], now: datetime) -> Claim | Wait:
        """Reserve a pacing slot and the day's caps, and move one message to ``sending``."""
        day = sender.local_day(now)
        result = self.claim_in_transaction(sender, campaigns, now, day)
        nothing = isinstance(result, Wait) and result.reason in ("nothing", "backoff")
        for campaign in campaigns:  # who is left waiting for the frequency cap, and why
            if nothing or campaign.pk in self.passed_over:
                hold_recent(campaign, now)
        self.passed_over.clear()
        if result is not None:
            return result
        fresh = Sender.objects.get(pk=sender.pk)
        if fresh.is_braked(now) or not fresh.is_active:
            return Wait(None, "stop")
        return Wait(fresh.next_send_at, "pacing")

    def claim_in_transaction(
        self, sender: Sender, campaigns: list[Campaign], now: datetime, day: date
    ) -> Claim | Wait | None:
        """The claim transaction; None when the sender is paced or braked."""
        with write_transaction():
            # The pause of the campaign most likely to be claimed is written with the
            # conditional update; another campaign's pause is written after the claim.
            pause = jittered(campaigns[0].delay_seconds, self.rng)
            at = db_time(now)
            # A conditional update, so concurrent workers serialise on the sender's row.
            if execute(PACE_SENDER, db_time(now + timedelta(seconds=pause)), sender.pk, at, at) != 1:
                transaction.set_rollback(True)
                return None
            if not take_slot(sender.counter_scope, day, sender.cap_on(day)):
                transaction.set_rollback(True)
                return Wait(None, "sender cap")
            backoff_until: datetime | None = None
            for position, campaign in enumerate(campaigns):
                candidate = self.next_candidate(campaign, now)
                if candidate is None:
                    retry_at = self.next_retry_at(campaign)
                    if retry_at and (backoff_until is None or retry_at < backoff_until):
                        backoff_until = retry_at
                    continue
                # Only a campaign that has another after it needs its own savepoint: for
                # the last one, a failure rolls the whole transaction back anyway.
                savepoint = transaction.savepoint() if position < len(campaigns) - 1 else None
                token = self.claim_message(campaign, candidate[0], now, day)
                if token is None:
                    if savepoint is not None:
                        transaction.savepoint_rollback(savepoint)
                    continue
                if savepoint is not None:
                    transaction.savepoint_commit(savepoint)
                if position > 0:
                    pause = jittered(campaign.delay_seconds, self.rng)
                    Sender.objects.filter(pk=sender.pk).update(next_send_at=now + timedelta(seconds=pause))
                claim = self.build_claim(candidate[0], token, campaign, sender, day, row=candidate)
                claim.paced_until = now + timedelta(seconds=pause)
                campaign.pending_count -= 1  # as SHIFT_IF_ACTIVE did, so the cache knows when it runs out
                return claim
            transaction.set_rollback(True)
            return Wait(backoff_until, "backoff" if backoff_until else "nothing")

    def claim_message(
        self, campaign: Campaign, message_id: int, now: datetime, day: date
    ) -> uuid.UUID | None:
        """Take the campaign's slot, move the message to ``sending`` and log it; its claim token.

        None when the slot, the message or the campaign could not be taken (the caller then
        rolls back what was taken).

        The campaign's counters move only while it is active, so a pause or a cancellation
        committed before this claim stops it.
        """
        if not take_slot(campaign.counter_scope, day, campaign.daily_limit):
            return None
        token, at = uuid.uuid4(), db_time(now)
        quota_day = connection.ops.adapt_datefield_value(day)
        fields = (SENDING, db_uuid(token), self.worker_name, at, quota_day, message_id, PENDING)
        active = (campaign.pk, CampaignStatus.ACTIVE.value)
        event = (at, PENDING, SENDING, self.worker_name)  # the claim's event, without detail
        if self.is_postgres:
            taken = fetch_one(CLAIM_AT_ONCE, (*fields, *active, *event))
            return token if taken and taken[0] else None
        if execute(CLAIM_MESSAGE, *fields) != 1 or execute(SHIFT_IF_ACTIVE, *active) != 1:
            return None
        execute(LOG_EVENT, message_id, *event, "")
        return token

    def next_candidate(self, campaign: Campaign, now: datetime) -> tuple | None:
        """The next message the campaign may claim: its OUTGOING_FIELDS, or None.

        The first pending message that is due and whose person no other promotion reached
        within the frequency cap's period.

        On SQLite one statement answers, and claims take turns. On PostgreSQL claims run
        side by side, so each candidate's person is locked and then checked
        (``hold_person``): the next pending messages are tried in order, cheaply, and
        only when the first few are all held does one query with the cap's conditions
        find the first free one (its plan costs about a millisecond, on every claim).
        """
        cap, cap_params = not_reached_sql(campaign, now)
        if not cap or not self.is_postgres:
            return self.pending_row(campaign, now, 0, cap, cap_params)
        after = 0
        for attempt in range(PERSON_TRIES + 1):
            capped = attempt == PERSON_TRIES  # the cheap tries found only people who are held
            row = self.pending_row(campaign, now, after, cap if capped else "", cap_params if capped else [])
            if row is None:
                return None
            if self.hold_person(row[0], cap, cap_params):
                return row
            # Held by the cap (or by another claim): after this claim, the people the cap
            # holds get their reason and date, so the next claims do not walk past them.
            self.passed_over.add(campaign.pk)
            after = row[0]
        return None

    def pending_row(
        self, campaign: Campaign, now: datetime, after: int, cap: str, cap_params: list
    ) -> tuple | None:
        """The first due pending message past id ``after`` that meets ``cap``, or None."""
        lock = " FOR UPDATE SKIP LOCKED" if self.is_postgres else ""
        query = NEXT_PENDING.format(cap=cap) + lock
        row = fetch_one(query, (campaign.pk, PENDING, db_time(now), after, *cap_params), prepare=not cap)
        if row is None:
            return None
        *fields, message_uuid, attempts = row
        return (*fields, Message._meta.get_field("uuid").to_python(message_uuid), attempts)

    def hold_person(self, message_id: int, cap: str, cap_params: list) -> bool:
        """Lock the message's person for this transaction; whether they are still free.

        The candidate query read the database as it was when it started: a claim for the
        same person in another campaign may have committed since. Once the lock is held,
        a new statement sees every such claim, and no new one can commit meanwhile.
        """
        row = fetch_one(HOLD_PERSON, (CONTACT_LOCKS, message_id))
        if not (row and row[0]):
            return False  # another claim is deciding about this person right now
        return fetch_one(STILL_FREE.format(cap=cap), (message_id, *cap_params)) is not None

    def next_retry_at(self, campaign: Campaign) -> datetime | None:
        return (
            Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING)
            .exclude(next_attempt_at__isnull=True)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )

    def build_claim(
        self,
        message_id: int,
        token: uuid.UUID,
        campaign: Campaign,
        sender: Sender,
        day: date,
        row: tuple | None = None,
    ) -> Claim:
        """The claim of a message just moved to ``sending``; ``row`` is its OUTGOING_FIELDS as
        read before the claim (the claim added one attempt), else they are read now."""
        if row is None:
            row = Message.objects.filter(pk=message_id).values_list(*OUTGOING_FIELDS).get()
            attempts = row[-1]
        else:
            attempts = row[-1] + 1
        _id, contact_name, phone, text, message_uuid, _attempts = row
        promotion = campaign.promotion
        variables = Variables(contact_name, promotion.code, promotion.benefit, promotion.valid_until)
        outgoing = OutgoingMessage(
            to=phone or "",
            text=text,
            message_id=str(message_uuid),
            variables=variables.as_dict(),
            provider_template=dict(campaign.provider_template or {}),
        )
        return Claim(message_id, token, campaign, sender, day, attempts, outgoing)

    # --- record -----------------------------------------------------------------------
    def finish(self, claim: Claim, to_status: str, now: datetime, detail: str = "", **fields) -> bool:
        """Move a claimed message out of ``sending`` if this claim still owns it."""
        owned = Message.objects.filter(
            pk=claim.message_id, status=MessageStatus.SENDING, claim_token=claim.token
        )
        if owned.update(status=to_status, **fields) != 1:
            return False
        Campaign.shift_count(claim.campaign.pk, MessageStatus.SENDING, to_status)
        MessageEvent.objects.create(
            message_id=claim.message_id,
            at=now,
            from_status=MessageStatus.SENDING,
            to_status=to_status,
            actor=self.worker_name,
            detail=detail[:2000],
        )
        return True

    def release_slots(self, claim: Claim) -> None:
        """Give back the day's slots of a message that definitely did not go out."""
        DailyCounter.release(claim.sender.counter_scope, claim.quota_day)
        DailyCounter.release(claim.campaign.counter_scope, claim.quota_day)

    def mark_sent(self, claim: Claim, provider_id: str, now: datetime) -> bool:
        """``finish`` for a sent message, as the few statements it comes to."""
        at = db_time(now)
        fields = (SENT, at, at, provider_id or "")
        if execute(MARK_SENT, *fields, claim.message_id, SENDING, db_uuid(claim.token)) != 1:
            return False
        execute(SHIFT_SENT, claim.campaign.pk)
        execute(LOG_EVENT, claim.message_id, at, SENDING, SENT, self.worker_name, (provider_id or "")[:2000])
        return True

    def complete_if_done(self, campaign: Campaign, now: datetime) -> None:
        """Campaign.complete_if_done, in one statement."""
        done, active = CampaignStatus.COMPLETED.value, CampaignStatus.ACTIVE.value
        if execute(COMPLETE, done, db_time(now), campaign.pk, active) == 1:
            campaign.status, campaign.finished_at = done, now

    def record_sent(self, claim: Claim, provider_id: str, summary: RunSummary) -> None:
        now = self.clock.now()
        if self.is_postgres:
            self.record_sent_at_once(claim, provider_id, now)
        else:
            with write_transaction():
                if not self.mark_sent(claim, provider_id, now):
                    self.record_late(claim, provider_id, now)
                self.complete_if_done(claim.campaign, now)  # in the same transaction: one commit, not two
        summary.sent += 1
        self.report(
            f"✅ {claim.outgoing.variables.get('full_name', '')} ({mask_phone(claim.outgoing.to)}) enviado"
        )

    def record_sent_at_once(self, claim: Claim, provider_id: str, now: datetime) -> None:
        """record_sent on PostgreSQL: the message, its campaign's counters and its event in
        one statement; the campaign is completed only when that left nothing to do."""
        at = db_time(now)
        mark = (SENT, at, at, provider_id or "", claim.message_id, SENDING, db_uuid(claim.token))
        event = (at, SENDING, SENT, self.worker_name, (provider_id or "")[:2000])
        left = fetch_one(RECORD_SENT, (*mark, *event))
        if left is None:
            with write_transaction():
                self.record_late(claim, provider_id, now)
                self.complete_if_done(claim.campaign, now)
        elif left == (0, 0):
            self.complete_if_done(claim.campaign, now)

    def record_late(self, claim: Claim, provider_id: str, now: datetime) -> None:
        """The sweep marked it unknown while we were sending: the send did happen."""
        late = Message.objects.filter(
            pk=claim.message_id, status=MessageStatus.UNKNOWN, claim_token=claim.token
        ).update(
            status=MessageStatus.SENT, sent_at=now, finished_at=now, provider_message_id=provider_id or ""
        )
        if late:
            Campaign.shift_count(claim.campaign.pk, MessageStatus.UNKNOWN, MessageStatus.SENT)
        log.critical("late result for message %s: recorded as sent", claim.message_id)

    def record_failure(self, claim: Claim, error: SendError, summary: RunSummary) -> Wait | None:
        """Record a failed send; a Wait(stop) tells the run to stop for this sender."""
        now = self.clock.now()
        reason = str(error)
        who = f"{claim.outgoing.variables.get('full_name', '')} ({mask_phone(claim.outgoing.to)})"
        log.warning("send to %s failed (%s): %s", mask_phone(claim.outgoing.to), error.kind, reason)
        result: Wait | None = None
        with write_transaction():
            if error.kind == SendError.UNKNOWN and self.confirmed_meanwhile(claim):
                # A delivery receipt arrived while we waited for the answer: it went out.
                self.finish(claim, MessageStatus.SENT, now, reason, sent_at=now, finished_at=now)
                summary.sent += 1
            elif error.kind == SendError.UNKNOWN:
                self.finish(claim, MessageStatus.UNKNOWN, now, reason, last_error=reason, finished_at=now)
                summary.unknown += 1
                self.report(f"❓ {who}: resultado desconocido, queda para revisión ({reason})")
            elif error.kind == SendError.PERMANENT:
                if error.opted_out:
                    self.finish(
                        claim,
                        MessageStatus.SKIPPED,
                        now,
                        reason,
                        skip_reason=SkipReason.OPTED_OUT,
                        last_error=reason,
                        finished_at=now,
                    )
                    summary.skipped += 1
                else:
                    self.finish(claim, MessageStatus.FAILED, now, reason, last_error=reason, finished_at=now)
                    summary.failed += 1
                self.report(f"❌ {who}: {reason}")
            elif error.kind == SendError.RETRY and claim.attempts >= claim.campaign.max_attempts:
                final = f"{reason} (tras {claim.attempts} intentos)"
                if self.finish(claim, MessageStatus.FAILED, now, final, last_error=final, finished_at=now):
                    self.release_slots(claim)  # only while this claim still owned the row
                summary.failed += 1
                self.report(f"❌ {who}: {final}")
            elif error.kind == SendError.RETRY:
                wait = backoff_seconds(claim.attempts, error.retry_after)
                if self.finish(
                    claim,
                    MessageStatus.PENDING,
                    now,
                    reason,
                    last_error=reason,
                    next_attempt_at=now + timedelta(seconds=wait),
                ):
                    self.release_slots(claim)
                summary.retried += 1
                self.report(f"⏳ {who}: se reintentará ({reason})")
            else:  # disconnected or brake: not sent, and this sender stops
                if self.finish(
                    claim,
                    MessageStatus.PENDING,
                    now,
                    reason,
                    last_error=reason,
                    attempts=F("attempts") - 1,
                    claim_token=None,
                ):
                    self.release_slots(claim)
                result = Wait(None, "stop")
        if error.kind == SendError.PERMANENT and error.opted_out and claim.outgoing.to:
            for contact in Contact.objects.filter(phone=claim.outgoing.to):
                contact.opt_out("proveedor", now)
        if error.kind in (SendError.DISCONNECTED, SendError.BRAKE):
            health.forget(claim.sender)  # the next check asks the provider again
        if error.kind == SendError.DISCONNECTED:
            summary.disconnected.append(f"{claim.sender.name}: {reason}")
            self.report(f"✖ {claim.sender.name}: WhatsApp se desconectó ({reason}); se detiene el envío.")
        elif error.kind == SendError.BRAKE:
            until = end_of_day(now, claim.sender.tz)
            claim.sender.brake(f"Freno automático: {reason}", until, now=now)
            summary.braked.append(f"{claim.sender.name}: {reason}")
            self.report(f"🛑 {claim.sender.name}: freno automático ({reason}); campañas en pausa.")
        claim.campaign.complete_if_done(now)
        return result

    def confirmed_meanwhile(self, claim: Claim) -> bool:
        """True when a webhook recorded a delivery state for the message while it was sending."""
        return Message.objects.filter(
            pk=claim.message_id, claim_token=claim.token, delivery_status__in=["sent", "delivered", "read"]
        ).exists()

    # --- housekeeping -----------------------------------------------------------------
    def sweep_stale(self, now: datetime) -> int:
        """Messages left ``sending`` by a dead worker become ``unknown``, never pending."""
        lease = getattr(settings, "GOTEO_SENDING_LEASE_SECONDS", 600)
        stale = Message.objects.filter(claimed_at__lt=now - timedelta(seconds=lease))
        moved = self.mark_unknown(
            stale, "el proceso que lo enviaba se detuvo; puede haber salido: revisar", now
        )
        if moved:
            log.warning("%d message(s) left sending by a stopped worker are now unknown", moved)
        return moved

    def abandon(self, claims: dict[int, uuid.UUID], now: datetime) -> int:
        """Claims this process will not finish become ``unknown`` now; how many did.

        For a forced stop: the messages may be on their way to the provider, so they are
        never sent again. A claim already recorded (its token moved on) is left alone.
        """
        mine = Message.objects.filter(pk__in=list(claims), claim_token__in=list(claims.values()))
        reason = "el worker se detuvo a la fuerza mientras lo enviaba; puede haber salido: revisar"
        return self.mark_unknown(mine, reason, now)

    def mark_unknown(self, messages: QuerySet[Message], reason: str, now: datetime) -> int:
        """The ``messages`` still ``sending`` become ``unknown`` with ``reason`` and an event each."""
        ids = list(messages.filter(status=MessageStatus.SENDING).values_list("id", flat=True))
        if not ids:
            return 0
        with write_transaction():
            moved = Message.move(
                Message.objects.filter(pk__in=ids, status=MessageStatus.SENDING),
                MessageStatus.UNKNOWN,
                now,
                last_error=reason,
                finished_at=now,
            )
            MessageEvent.objects.bulk_create(
                MessageEvent(
                    message_id=i,
                    at=now,
                    from_status=SENDING,
                    to_status=MessageStatus.UNKNOWN,
                    actor=self.worker_name,
                    detail=reason,
                )
                for i in ids
            )
        return moved

    def expire_campaigns(self, now: datetime, campaign_ids: list[int] | None = None) -> int:
        """Skip what remains of campaigns whose promotion is over; returns messages skipped."""
        campaigns = Campaign.objects.filter(
            status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED]
        ).select_related("promotion", "sender")
        if campaign_ids is not None:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        skipped = 0
        for campaign in campaigns:
            if not is_expired(campaign, now):
                continue
            with write_transaction():
                skipped += Message.skip_pending(campaign.messages.all(), SkipReason.EXPIRED, now)
                Campaign.objects.filter(pk=campaign.pk, sending_count=0).update(
                    status=CampaignStatus.COMPLETED, finished_at=now
                )
            self.report(f"⌛ {campaign.name}: la promoción venció; lo pendiente se omite.")
        return skipped


def refresh_connections() -> None:
    """Drop broken or old connections between units of work (not inside a transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()
