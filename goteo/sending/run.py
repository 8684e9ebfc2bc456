"""A run: every active campaign's sender, one step at a time, until nothing more is allowed.

A step claims one message (goteo.sending.claim), hands it to the sender's transport with no
transaction open, and records the outcome (goteo.sending.record). ``process_campaigns``
runs this once per cron call; the worker (goteo.worker) runs steps for many senders at once.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from django.db import close_old_connections, connection
from django.db.models import QuerySet
from django.db.models.functions import Mod

from goteo import health, replies
from goteo.automations import run_automations
from goteo.clock import Clock, SystemClock
from goteo.models import Campaign, CampaignStatus, Message, Sender
from goteo.safeguards import apply_safeguards
from goteo.scheduling import launch_due
from goteo.sending.claim import Claim, Claimer, Step, Wait
from goteo.sending.dialect import dialect
from goteo.sending.record import Outcome, Recorder
from goteo.transports import ConfigurationError, SendError, Transport, transport_for

log = logging.getLogger("goteo.engine")

T = TypeVar("T")


class RecordRetry(Protocol):
    """How an outcome is written: ``policy(write)`` calls ``write`` (perhaps again)."""

    def __call__(self, write: Callable[[], T]) -> T: ...


CAMPAIGNS_SECONDS = 5.0  # how long a sender's campaign rows are reused between claims
CampaignCache = dict[tuple[int, tuple[int, ...] | None], tuple[datetime, list[Campaign]]]


class InsideTransaction(RuntimeError):
    """Sending was asked to run inside an open transaction."""


def refuse_inside_transaction() -> None:
    """Sending commits each claim before calling the provider; inside an open transaction
    that commit would only be a savepoint, and a crash would lose the claim."""
    if connection.in_atomic_block:
        raise InsideTransaction(
            "goteo.sending must run outside any transaction: its claims are committed before "
            "the provider is called (here they would only be savepoints)"
        )


def record_once(write: Callable[[], T]) -> T:
    """The plain record policy: write the outcome once; an error is the caller's."""
    return write()


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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

    def count(self, outcome: Outcome) -> None:
        """Count one recorded outcome (one that moved nothing is not counted)."""
        name = outcome.value
        if hasattr(self, name) and isinstance(getattr(self, name), int):
            setattr(self, name, getattr(self, name) + 1)

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


def campaigns_with_work() -> QuerySet[Campaign]:
    """Active campaigns with messages pending, in id order, with their promotion, sender and
    file (read in the same query: each claim's message carries the file)."""
    return (
        Campaign.objects.filter(status=CampaignStatus.ACTIVE, pending_count__gt=0)
        .select_related("promotion", "sender", "media")
        .order_by("id")
    )


def campaigns_by_sender(
    *, besides: Iterable[int] = (), shard: tuple[int, int] | None = None
) -> dict[int, list[Campaign]]:
    """The campaigns with work of every active sender but the ``besides`` ids, by sender id;
    with ``shard`` (index, count), only of the senders ``supervisor.shard_of`` gives it.

    One query, however many senders: a worker reads them all at start-up and on every rescan.
    """
    campaigns = campaigns_with_work().filter(sender__is_active=True).exclude(sender_id__in=list(besides))
    if shard is not None:
        index, count = shard
        campaigns = campaigns.alias(shard=Mod("sender_id", count)).filter(shard=index)  # as shard_of
    found: dict[int, list[Campaign]] = {}
    for campaign in campaigns:
        found.setdefault(campaign.sender_id, []).append(campaign)
    return found


def refresh_connections() -> None:
    """Drop broken or old connections between units of work (not inside a transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()


class Engine:
    """Sends what is allowed now, one message at a time, for the given campaigns.

    ``clock`` supplies the time and the sleeps; ``max_wait`` is the longest pause the run
    waits through before returning (pacing between messages); ``report`` receives one
    line of text per event for the command's output; ``record_retry`` is the policy an
    outcome is written with (the worker's retries while the database is away).
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
        record_retry: RecordRetry = record_once,
    ) -> None:
        self.clock = clock or SystemClock()
        self.worker_name = worker_name or default_worker_name()
        self.max_wait = max_wait
        self.report: Callable[[str], None] = report or (lambda line: None)
        self.transport_factory = transport_factory
        self.record_retry = record_retry
        self.shutdown = False
        db = dialect()
        self.claimer = Claimer(self.worker_name, rng or random.Random(), db)
        self.recorder = Recorder(self.clock, self.worker_name, self.report, db)
        # sender id and campaign ids -> (read at, the sender's active campaigns); the worker
        # shares one among its threads, since a sender's steps run on any of them.
        self.campaign_cache: CampaignCache = {}
        self.in_flight: dict[int, uuid.UUID] = {}  # message id -> claim token, between claim and record

    # --- the run --------------------------------------------------------------------------
    def run(self, campaign_ids: Iterable[int] | None = None) -> RunSummary:
        """Send everything allowed now for the active campaigns, then return."""
        refuse_inside_transaction()
        summary = RunSummary()
        ids = list(campaign_ids) if campaign_ids is not None else None
        now = self.clock.now()
        summary.swept = self.sweep_stale(now)
        summary.started = launch_due(now, self.report)  # scheduled campaigns whose start came
        summary.expired = self.expire_campaigns(now, ids)
        run_automations(now, self.report, ids)  # who automations enroll today; late ones skipped
        applied = apply_safeguards(now, ids, self.report)  # legal profile, senders' risk
        summary.notes += applied.notes
        summary.braked += applied.braked
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
                result = self.step(sender, transport, campaign_ids, summary)
                if result.step is Step.HANDLED and result.until is None:
                    continue  # its campaign may be done: look again at once
                if result.until is None or result.step in (Step.STOP, Step.DISCONNECTED):
                    break
                wait = (result.until - self.clock.now()).total_seconds()
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
    ) -> Wait:
        """Claim, send and record one message; what that came to, and when the sender may go on.

        HANDLED until the pacing its claim wrote (no moment: look again at once, its campaign
        may be done), or the Wait that kept it from claiming, or STOP / DISCONNECTED.
        """
        refuse_inside_transaction()
        now = self.clock.now()
        campaigns = [  # a simulation never sends for real, nor a real campaign in test mode
            c
            for c in self.sending_campaigns(sender, campaign_ids, now)
            if self.can_send_now(c, now) and c.simulation == transport.simulates
        ]
        if not campaigns:
            self.forget_campaigns(sender)
            return Wait(None, Step.WINDOW)
        claim = self.claim(sender, campaigns, now)
        if isinstance(claim, Wait):
            self.forget_campaigns(sender)  # nothing to claim: the next step reads them afresh
            return claim
        self.in_flight[claim.message_id] = claim.token
        try:
            stop = self.send(claim, transport, summary)
        finally:
            self.in_flight.pop(claim.message_id, None)
        if stop is not None:
            return stop
        if claim.paced_until is None or claim.campaign.pending_count <= 0:
            return Wait(None, Step.HANDLED)  # the next step finds out at once whether anything is left
        return Wait(claim.paced_until, Step.HANDLED)

    def send(self, claim: Claim, transport: Transport, summary: RunSummary) -> Wait | None:
        """Hand the claimed message to the transport and record what became of it; a Wait
        when the sender must stop."""
        try:
            provider_id = transport.send(claim.outgoing)
        except SendError as exc:
            error = exc
        except Exception as exc:  # a transport's bug: the request may have left, so never again
            log.exception("sending message %s raised an unexpected error", claim.message_id)
            error = SendError(SendError.UNKNOWN, f"error inesperado al enviar: {exc}")
        else:
            claim.simulated, claim.outcome = transport.simulates, transport.delivered_text()
            self.record_retry(lambda: self.record_sent(claim, provider_id, summary))
            return None
        stop: Wait | None = self.record_retry(lambda: self.record_failure(claim, error, summary))
        return stop

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

    # --- the jobs it hands on -----------------------------------------------------------
    def claim(self, sender: Sender, campaigns: list[Campaign], now: datetime) -> Claim | Wait:
        """Claimer.claim: one message of ``campaigns`` moved to ``sending`` for this worker."""
        return self.claimer.claim(sender, campaigns, now)

    def record_sent(self, claim: Claim, provider_id: str, summary: RunSummary) -> None:
        """Recorder.record_sent, counted in ``summary``."""
        summary.count(self.recorder.record_sent(claim, provider_id))

    def record_failure(self, claim: Claim, error: SendError, summary: RunSummary) -> Wait | None:
        """Recorder.record_failure, counted in ``summary``; a Wait when the sender must stop."""
        outcome = self.recorder.record_failure(claim, error)
        summary.count(outcome)
        moved = outcome is not Outcome.NONE
        if error.kind == SendError.DISCONNECTED:
            if moved:
                summary.disconnected.append(f"{claim.sender.name}: {error}")
            return Wait(None, Step.DISCONNECTED)
        if error.kind == SendError.BRAKE:
            if moved:
                summary.braked.append(f"{claim.sender.name}: {error}")
            return Wait(None, Step.STOP)
        return None

    def sweep_stale(self, now: datetime) -> int:
        """Message.objects.sweep_stale, as this worker."""
        return Message.objects.sweep_stale(now, self.worker_name)

    def expire_campaigns(self, now: datetime, campaign_ids: list[int] | None = None) -> int:
        """Campaign.objects.expire, reporting to this run."""
        return Campaign.objects.expire(now, campaign_ids, self.report)
