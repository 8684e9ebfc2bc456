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
from django.db.models.functions import Mod

from goteo import health, replies
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
    Promotion,
    Sender,
    SkipReason,
)
from goteo.models.counters import RESERVE
from goteo.pacing import backoff_seconds, jittered
from goteo.phones import mask_phone
from goteo.safeguards import apply_safeguards
from goteo.scheduling import launch_due
from goteo.simulation import finish_stale_simulations, record_simulated
from goteo.templating import Variables
from goteo.transports import ConfigurationError, OutgoingMessage, SendError, Transport, transport_for
from goteo.writes import write_transaction

log = logging.getLogger("goteo.engine")

PENDING, SENDING, SENT = MessageStatus.PENDING.value, MessageStatus.SENDING.value, MessageStatus.SENT.value

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
TAKE_SLOT = (  # a slot of the day's counter, once its row exists (DailyCounter.reserve creates it)
    "UPDATE goteo_dailycounter SET used = used + 1 WHERE scope = %s AND day = %s AND used < %s"
)
# PostgreSQL: PACE_SENDER and then TAKE_SLOT for the sender as one statement; whether the
# sender was free to send, and whether its slot was taken.
PACE_AND_TAKE_SLOT = (
    f"WITH p AS ({PACE_SENDER} RETURNING id),"
    f" s AS ({TAKE_SLOT} AND EXISTS (SELECT 1 FROM p) RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM p), EXISTS (SELECT 1 FROM s)"
)
CLAIM_MESSAGE = (
    "UPDATE goteo_message SET status = %s, claim_token = %s, claimed_by = %s, claimed_at = %s,"
    " quota_day = %s, attempts = attempts + 1 WHERE id = %s AND status = %s"
)
SHIFT_IF_ACTIVE = (  # Campaign.shift_count(pending -> sending), only while the campaign is active
    "UPDATE goteo_campaign SET pending_count = pending_count - 1, sending_count = sending_count + 1"
    " WHERE id = %s AND status = %s"
)
# PostgreSQL: CLAIM_MESSAGE, SHIFT_IF_ACTIVE and the claim's event, as the steps of one
# statement; {taken} adds a condition on the message's update.
CLAIM_STEPS = (
    "m AS (UPDATE goteo_message SET status = %s, claim_token = %s, claimed_by = %s, claimed_at = %s,"
    " quota_day = %s, attempts = attempts + 1 WHERE id = %s AND status = %s{taken} RETURNING id),"
    " c AS (UPDATE goteo_campaign SET pending_count = pending_count - 1, sending_count = sending_count + 1"
    " WHERE id = %s AND status = %s AND EXISTS (SELECT 1 FROM m) RETURNING id),"
    " e AS (INSERT INTO goteo_messageevent (message_id, at, from_status, to_status, actor, detail)"
    " SELECT id, %s, %s, %s, %s, '' FROM m WHERE EXISTS (SELECT 1 FROM c))"
)
# True only if both the message and the campaign were taken (else the claim rolls it back).
CLAIM_AT_ONCE = "WITH " + CLAIM_STEPS.format(taken="") + " SELECT EXISTS (SELECT 1 FROM c)"
# The whole claim of a message in one statement: the person is checked against the
# frequency cap ({cap}; a statement after the one that locked them, so it sees every claim
# committed meanwhile), then the campaign's slot is taken, then CLAIM_STEPS. Whether the
# person was free, whether the slot was taken, and whether the claim was.
CLAIM_IF_FREE = (
    "WITH f AS (SELECT 1 FROM goteo_message WHERE id = %s{cap}),"
    f" s AS ({TAKE_SLOT} AND EXISTS (SELECT 1 FROM f) RETURNING id), "
    + CLAIM_STEPS.format(taken=" AND EXISTS (SELECT 1 FROM s)")
    + " SELECT EXISTS (SELECT 1 FROM f), EXISTS (SELECT 1 FROM s), EXISTS (SELECT 1 FROM c)"
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
CANDIDATE = (  # frequency.not_reached_sql adds the cap's conditions
    " FROM goteo_message WHERE campaign_id = %s AND status = %s"
    " AND (next_attempt_at IS NULL OR next_attempt_at <= %s) AND id > %s{cap} ORDER BY id LIMIT 1"
)
NEXT_PENDING = "SELECT id, contact_name, phone, rendered_text, uuid, attempts" + CANDIDATE
# PostgreSQL: the person a candidate is for, held until the claim commits, so that two
# campaigns (on two numbers, in two workers) cannot both pass the frequency cap for the
# same person at the same moment. A try-lock: a person another claim holds is skipped.
PERSON_LOCK = (
    "pg_try_advisory_xact_lock(hashtextextended(phone, 0))"
    " AND (contact_id IS NULL OR pg_try_advisory_xact_lock(%s, (contact_id %% 2147483647)::integer))"
)
# The next candidate, locked, with whether its person is now held (PERSON_LOCK, formatted
# in at each use); the row is locked first, and the person only for the row found.
HOLD_NEXT = (
    "SELECT id, contact_name, phone, rendered_text, uuid, attempts, {lock} FROM"
    " (SELECT id, contact_name, phone, rendered_text, uuid, attempts, contact_id"
    + CANDIDATE
    + " FOR UPDATE SKIP LOCKED) candidate"
)
CONTACT_LOCKS = 0x676F  # the contact locks' namespace (key1 of the two-key form; ids fold into key2)
PERSON_TRIES = 5  # candidates a claim looks at before leaving the campaign for its next turn
LOG_EVENT = (
    "INSERT INTO goteo_messageevent (message_id, at, from_status, to_status, actor, detail)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)


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


def db_day(day: date) -> Any:
    return connection.ops.adapt_datefield_value(day)


def take_slot(scope: str, day: date, cap: int) -> bool:
    """DailyCounter.reserve as the engine runs its statements: the plain increment first,
    and the upsert only when it took nothing (the day's first slot, or the cap). On SQLite
    every upsert also writes the table's sequence, even when the row was there."""
    if cap <= 0:
        return False
    day_value = db_day(day)
    return execute(TAKE_SLOT, scope, day_value, cap) == 1 or execute(RESERVE, scope, day_value, cap) == 1


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
    simulated: bool = False  # taken by a transport that only prints (goteo.simulation)
    outcome: str = "enviado"  # how the transport reports a success (Transport.delivered_text)


@dataclass
class Wait:
    """Nothing can be claimed before ``until`` (pacing, backoff or a closed window)."""

    until: datetime | None
    reason: str


@dataclass
class RunSummary:
    """What a run did, for the command's output and its --json summary."""

    sent: int = 0
    simulated: int = 0  # printed in test mode: never sent
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    skipped: int = 0
    swept: int = 0
    expired: int = 0
    started: int = 0  # scheduled campaigns that started (goteo.scheduling)
    disconnected: list[str] = field(default_factory=list)
    braked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disconnected

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "simulated": self.simulated,
            "failed": self.failed,
            "retried": self.retried,
            "unknown": self.unknown,
            "skipped": self.skipped,
            "swept": self.swept,
            "expired": self.expired,
            "started": self.started,
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
        summary.started = launch_due(now, self.report)
        summary.expired = self.expire_campaigns(now, ids)
        apply_safeguards(now, ids, summary, self.report)  # legal profile, senders' risk
        replies.send_due(now, transport_factory=self.transport_factory, report=self.report)
        for sender in self.senders_with_work(ids):
            if self.shutdown:
                break
            self.run_sender(sender, ids, summary)
        return summary

    def senders_with_work(self, campaign_ids: list[int] | None) -> list[Sender]:
        """Active senders with an active campaign that has work."""
        campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE, pending_count__gt=0)
        if campaign_ids is not None:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        return list(Sender.objects.filter(campaigns__in=campaigns, is_active=True).distinct())

    def active_campaigns(self, sender: Sender, campaign_ids: list[int] | None) -> list[Campaign]:
        campaigns = campaigns_with_work().filter(sender=sender)
        if campaign_ids is not None:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        return list(campaigns)

    def campaigns_by_sender(
        self, *, besides: Iterable[int] = (), shard: tuple[int, int] | None = None
    ) -> dict[int, list[Campaign]]:
        """``active_campaigns`` of every active sender but the ``besides`` ids, by sender id;
        with ``shard`` (index, count), only of the senders ``supervisor.shard_of`` gives it.

        One query, however many senders: a worker reads them all at start-up and on
        every rescan.
        """
        campaigns = campaigns_with_work().filter(sender__is_active=True).exclude(sender_id__in=list(besides))
        if shard is not None:
            index, count = shard
            campaigns = campaigns.alias(shard=Mod("sender_id", count)).filter(shard=index)  # as shard_of
        found: dict[int, list[Campaign]] = {}
        for campaign in campaigns:
            found.setdefault(campaign.sender_id, []).append(campaign)
        return found

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
            if status.unreachable:
                self.report(f"❔ {sender.name}: {status.detail}. No se envía nada mientras tanto.")
            else:
                self.report(
                    f"✖ {sender.name}: WhatsApp no está conectado ({status.detail}); no se envía nada."
                )
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
        return campaign.sending_rules().is_open(now) and not campaign.is_over(now)

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
        campaigns = [  # a simulation never sends for real, nor a real campaign in test mode
            c
            for c in self.sending_campaigns(sender, campaign_ids, now)
            if self.can_send_now(c, now) and c.simulation == transport.simulates
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
            claim.simulated, claim.outcome = transport.simulates, transport.delivered_text()
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
            paced, slot = self.pace_sender(sender, now, now + timedelta(seconds=pause), day)
            if not paced:
                transaction.set_rollback(True)
                return None
            if not slot:
                transaction.set_rollback(True)
                return Wait(None, "sender cap")
            backoff_until: datetime | None = None
            for position, campaign in enumerate(campaigns):
                # Only a campaign that has another after it needs its own savepoint: for
                # the last one, a failure rolls the whole transaction back anyway.
                row, token = self.claim_in_campaign(
                    campaign, now, day, savepoint=position < len(campaigns) - 1
                )
                if row is None:
                    retry_at = self.next_retry_at(campaign)
                    if retry_at and (backoff_until is None or retry_at < backoff_until):
                        backoff_until = retry_at
                    continue
                if token is None:
                    continue
                if position > 0:
                    pause = jittered(campaign.delay_seconds, self.rng)
                    Sender.objects.filter(pk=sender.pk).update(next_send_at=now + timedelta(seconds=pause))
                claim = self.build_claim(row[0], token, campaign, sender, day, row=row)
                claim.paced_until = now + timedelta(seconds=pause)
                campaign.pending_count -= 1  # as the claim did, so the cache knows when it runs out
                return claim
            transaction.set_rollback(True)
            return Wait(backoff_until, "backoff" if backoff_until else "nothing")

    def pace_sender(self, sender: Sender, now: datetime, until: datetime, day: date) -> tuple[bool, bool]:
        """Pace the sender until ``until`` if it may send now, then take its slot for ``day``.

        Whether it was paced, and whether the slot was taken. The pacing is a conditional
        update, so concurrent workers serialise on the sender's row.
        """
        at = db_time(now)
        pace = (db_time(until), sender.pk, at, at)
        scope, cap = sender.counter_scope, sender.cap_on(day)
        if not self.is_postgres:
            return (True, take_slot(scope, day, cap)) if execute(PACE_SENDER, *pace) == 1 else (False, False)
        row = fetch_one(PACE_AND_TAKE_SLOT, (*pace, scope, db_day(day), cap))
        paced, slot = row or (False, False)
        # No slot: the day's first claim for the sender (its row does not exist yet), or the cap.
        return paced, slot or (paced and DailyCounter.reserve(scope, day, cap))

    def claim_in_campaign(
        self, campaign: Campaign, now: datetime, day: date, *, savepoint: bool
    ) -> tuple[tuple | None, uuid.UUID | None]:
        """Claim the campaign's next message: its OUTGOING_FIELDS and claim token.

        (None, None) when no message may be claimed now; (row, None) when one was found
        but the campaign could not be claimed (its cap, or a pause). What that claim took
        is undone here with a savepoint when ``savepoint`` is true, and otherwise left for
        the caller to roll back with the whole transaction.

        The first pending message that is due and whose person no other promotion reached
        within the frequency cap's period. On SQLite one statement finds it, and claims
        take turns. On PostgreSQL claims run side by side, so each candidate's person is
        locked as it is found, and the claim checks them against the cap once the lock is
        held: the next pending messages are tried in order, cheaply, and only when the
        first few are all held does one query with the cap's conditions find the first
        free one (its plan costs about a millisecond, on every claim).
        """
        cap, cap_params = not_reached_sql(campaign, now)
        hold = bool(cap) and self.is_postgres
        after = 0
        for attempt in range(PERSON_TRIES + 1 if hold else 1):
            capped = not hold or attempt == PERSON_TRIES  # the cheap tries found only people who are held
            found = self.pending_row(
                campaign, now, after, cap if capped else "", cap_params if capped else [], hold
            )
            if found is None:
                return None, None
            row, locked = found
            if locked:
                point = transaction.savepoint() if savepoint else None
                free, token = self.claim_message(campaign, row[0], now, day, cap, cap_params)
                if point is not None:
                    if free and token is None:
                        transaction.savepoint_rollback(point)
                    else:
                        transaction.savepoint_commit(point)
                if free:
                    return row, token
            # Held by the cap, or locked by another claim: after this claim, the people the
            # cap holds get their reason and date, so the next claims do not walk past them.
            self.passed_over.add(campaign.pk)
            after = row[0]
        return None, None

    def claim_message(
        self,
        campaign: Campaign,
        message_id: int,
        now: datetime,
        day: date,
        cap: str = "",
        cap_params: Sequence = (),
    ) -> tuple[bool, uuid.UUID | None]:
        """Take the campaign's slot, move the message to ``sending`` and log it.

        Whether the message's person is still free under the frequency cap's conditions
        ``cap`` (on PostgreSQL, with the person locked; SQLite's candidate query checked
        them already), and the claim token: None when the slot, the message or the
        campaign could not be taken (the caller then rolls back what was taken).

        The campaign's counters move only while it is active, so a pause or a cancellation
        committed before this claim stops it.
        """
        token, at = uuid.uuid4(), db_time(now)
        scope, limit, quota_day = campaign.counter_scope, campaign.daily_limit, db_day(day)
        fields = (SENDING, db_uuid(token), self.worker_name, at, quota_day, message_id, PENDING)
        active = (campaign.pk, CampaignStatus.ACTIVE.value)
        event = (at, PENDING, SENDING, self.worker_name)  # the claim's event, without detail
        if not self.is_postgres:
            if not take_slot(scope, day, limit):
                return True, None
            if execute(CLAIM_MESSAGE, *fields) != 1 or execute(SHIFT_IF_ACTIVE, *active) != 1:
                return True, None
            execute(LOG_EVENT, message_id, *event, "")
            return True, token
        claim_if_free = CLAIM_IF_FREE.format(cap=cap)
        row = fetch_one(
            claim_if_free, (message_id, *cap_params, scope, quota_day, limit, *fields, *active, *event)
        )
        free, slot, taken = row or (False, False, False)
        if not free:
            return False, None
        if not slot:  # the campaign's first claim of the day (its row does not exist yet), or its cap
            if not DailyCounter.reserve(scope, day, limit):
                return True, None
            taken = (fetch_one(CLAIM_AT_ONCE, (*fields, *active, *event)) or (False,))[0]
        return True, token if taken else None

    def pending_row(
        self, campaign: Campaign, now: datetime, after: int, cap: str, cap_params: list, hold: bool = False
    ) -> tuple[tuple, bool] | None:
        """The first due pending message past id ``after`` that meets ``cap``, or None.

        Its OUTGOING_FIELDS, and whether this transaction now holds its person's lock: with
        ``hold`` (PostgreSQL) the person is try-locked (PERSON_LOCK), otherwise True.
        """
        params = (campaign.pk, PENDING, db_time(now), after, *cap_params)
        if hold:
            row = fetch_one(
                HOLD_NEXT.format(lock=PERSON_LOCK, cap=cap), (CONTACT_LOCKS, *params), prepare=not cap
            )
        else:
            lock = " FOR UPDATE SKIP LOCKED" if self.is_postgres else ""
            row = fetch_one(NEXT_PENDING.format(cap=cap) + lock, params, prepare=not cap)
        if row is None:
            return None
        message_id, contact_name, phone, text, message_uuid, attempts, *person = row
        message_uuid = Message._meta.get_field("uuid").to_python(message_uuid)
        locked = bool(person[0]) if person else True
        return (message_id, contact_name, phone, text, message_uuid, attempts), locked

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
    def finish(
        self,
        claim: Claim,
        to_status: str,
        now: datetime,
        detail: str = "",
        *,
        release: bool = False,
        **fields,
    ) -> bool:
        """Move a claimed message out of ``sending`` if this claim still owns it.

        ``release`` gives back its day's slots too (a message that definitely did not go
        out), only while this claim owned it. They are given back before the campaign's
        counters move, the order a claim takes them in: two workers, one claiming and
        one recording, never wait on each other in a circle.
        """
        owned = Message.objects.filter(
            pk=claim.message_id, status=MessageStatus.SENDING, claim_token=claim.token
        )
        if owned.update(status=to_status, **fields) != 1:
            return False
        if release:
            self.release_slots(claim)
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
        if claim.simulated:
            return record_simulated(self, claim, provider_id, summary)
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
            f"✅ {claim.outgoing.variables.get('full_name', '')} ({mask_phone(claim.outgoing.to)}) {claim.outcome}"
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
                self.finish(
                    claim, MessageStatus.FAILED, now, final, release=True, last_error=final, finished_at=now
                )
                summary.failed += 1
                self.report(f"❌ {who}: {final}")
            elif error.kind == SendError.RETRY:
                wait = backoff_seconds(claim.attempts, error.retry_after)
                self.finish(
                    claim,
                    MessageStatus.PENDING,
                    now,
                    reason,
                    release=True,
                    last_error=reason,
                    next_attempt_at=now + timedelta(seconds=wait),
                )
                summary.retried += 1
                self.report(f"⏳ {who}: se reintentará ({reason})")
            else:  # disconnected or brake: not sent, and this sender stops
                self.finish(
                    claim,
                    MessageStatus.PENDING,
                    now,
                    reason,
                    release=True,
                    last_error=reason,
                    attempts=F("attempts") - 1,
                    claim_token=None,
                )
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
            until = error.brake_until(now, claim.sender.tz)
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
        """The ``messages`` still ``sending`` become ``unknown`` with ``reason`` and an event each
        (a simulation's become ``simulated``: they were at most printed)."""
        finish_stale_simulations(messages, now, self.worker_name)
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
        """Skip what remains of campaigns whose promotion or own end is over; returns messages skipped."""
        campaigns = Campaign.objects.filter(
            status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED]
        ).select_related("promotion", "sender")
        if campaign_ids is not None:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        skipped = 0
        for campaign in campaigns:
            if not campaign.is_over(now):
                continue
            with write_transaction():
                # Again under the promotion's lock: one moved later meanwhile (Promotion.revise,
                # which writes it first) keeps its messages.
                campaign.promotion = Promotion.objects.select_for_update().get(pk=campaign.promotion_id)
                if not campaign.is_over(now):
                    continue
                reason = SkipReason.EXPIRED if campaign.is_expired(now) else SkipReason.ENDED
                skipped += Message.skip_pending(campaign.messages.all(), reason, now)
                Campaign.objects.filter(pk=campaign.pk, sending_count=0).update(
                    status=CampaignStatus.COMPLETED, finished_at=now
                )
            if reason == SkipReason.EXPIRED:
                self.report(f"⌛ {campaign.name}: la promoción venció; lo pendiente se omite.")
            else:
                self.report(f"⌛ {campaign.name}: la campaña terminó; lo pendiente se omite.")
        return skipped


def campaigns_with_work() -> QuerySet[Campaign]:
    """Active campaigns with messages pending, in id order, with their promotion and sender."""
    return (
        Campaign.objects.filter(status=CampaignStatus.ACTIVE, pending_count__gt=0)
        .select_related("promotion", "sender")
        .order_by("id")
    )


def refresh_connections() -> None:
    """Drop broken or old connections between units of work (not inside a transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()
