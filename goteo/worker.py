"""The long-running worker: sends for every number with work, each at its own pace.

One process drives many senders at once. Each sender with work is a *lane* holding the
moment it may next send. A small pool of threads takes whichever lane is due and runs one
engine step for it (claim, send, record), so a hundred numbers paced ten seconds apart
finish their day in about the time one number needs. Database connections stay bounded
by the pool size, whatever the number of senders.

The main thread only schedules: it writes the heartbeat, sweeps messages left ``sending``
by a dead worker, finds senders with work, and sleeps until the earliest moment one of
them may send (its window, caps and pacing, from ``goteo.status``). Outside the windows
it wakes only for the heartbeat and to notice new or resumed campaigns.

Stopping: SIGTERM or SIGINT only sets a flag. Messages in flight finish and are recorded,
then the process exits 0. A second signal exits at once, marking the messages in flight
``unknown`` first (if the database answers within two seconds; otherwise the sweep does it
later): they are never sent twice.

Several workers, on one machine or several, share the work through the database alone:
every claim is a compare-and-set and every cap a conditional increment (see engine.py).
``run_worker --processes N`` runs N workers on one machine, each driving its share of the
numbers (goteo.supervisor), so that one machine's cores all send.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, connections

from goteo import replies
from goteo.clock import Clock, SystemClock
from goteo.engine import Claim, Engine, RunSummary, Wait, default_worker_name, refresh_connections
from goteo.management.output import counted
from goteo.models import Campaign, CampaignStatus, Sender, WorkerHeartbeat
from goteo.safeguards import apply_safeguards
from goteo.scheduling import launch_due, next_start
from goteo.status import next_send_at, used_today_by
from goteo.supervisor import shard_of
from goteo.transports import SendError, Transport, transport_for

log = logging.getLogger("goteo.worker")

HEARTBEAT_SECONDS = 15.0
RESCAN_SECONDS = 60.0  # how often to look for new or resumed campaigns
SWEEP_SECONDS = 60.0
DISCONNECTED_REST = 300.0  # a number that cannot send is checked again after this
ERROR_REST = 5.0  # after a database or unexpected error, a lane waits this long
LONG_WAIT = 300.0  # a lane whose next send is further away is closed until the rescan
RECORD_RETRY_SECONDS = 60.0  # how long an outcome is retried while the database is away
REFRESH_SECONDS = 1.0  # how often a pool thread checks its database connection
ABANDON_SECONDS = 2.0  # how long a forced stop waits to mark the messages in flight unknown
YOUNG_COLLECTION_EVERY = 50_000  # allocations between collections of new objects (CPython: 700)


@dataclass
class Lane:
    """One sender the worker is driving, and the moment it may next send."""

    sender_id: int
    due: datetime
    busy: bool = False
    sender: Sender | None = None
    transport: Transport | None = None
    summary: RunSummary = field(default_factory=RunSummary)

    def close(self) -> None:
        if self.transport is not None:
            try:
                self.transport.close()
            except Exception:  # a transport that fails to close must not stop the worker
                log.exception("closing the transport of sender %s failed", self.sender_id)
            self.transport = None


@dataclass
class LaneResult:
    """What one step on a lane decided: when it runs next, or that it closes (and rests)."""

    lane: Lane
    next_due: datetime | None
    rest_until: datetime | None = None
    sent: int = 0


class WorkerEngine(Engine):
    """The engine as the worker uses it: an outcome is retried while the database is away.

    The message has already gone out (or certainly not) when its outcome is written, so a
    database restart at that moment should not leave it ``sending``. The writes are
    guarded by the claim token, so writing them again is harmless.
    """

    def record_sent(self, claim: Claim, provider_id: str, summary: RunSummary) -> None:
        self.retrying(lambda: Engine.record_sent(self, claim, provider_id, summary))

    def record_failure(self, claim: Claim, error: SendError, summary: RunSummary) -> Wait | None:
        return self.retrying(lambda: Engine.record_failure(self, claim, error, summary))

    def retrying(self, write: Callable[[], Any]) -> Any:
        waited = 0.0
        while True:
            try:
                return write()
            except DatabaseError:
                if waited >= RECORD_RETRY_SECONDS:
                    raise
                log.warning("database unavailable while recording an outcome; retrying")
                drop_connection()
                self.clock.sleep(1.0)
                waited += 1.0


class Worker:
    """Runs until stopped, sending for every active campaign inside its window.

    ``threads`` is how many steps run at once (0 runs them in the main thread, which tests
    use with a simulated clock); ``exit_when_idle`` stops the worker once nothing can be
    sent for a while, for cron-style runs and tests. ``shard`` (index, count) limits it
    to the numbers ``supervisor.shard_of`` gives that index, and ``parent_pid`` makes it
    stop when that process (its supervisor) is gone.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        name: str | None = None,
        threads: int = 8,
        transport_factory: Callable[[Sender], Transport] = transport_for,
        report: Callable[[str], None] | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        rescan_seconds: float = RESCAN_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
        exit_when_idle: bool = False,
        rng: random.Random | None = None,
        shard: tuple[int, int] | None = None,
        parent_pid: int | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.name = name or default_worker_name()
        self.threads = max(0, threads)
        self.transport_factory = transport_factory
        self.heartbeat_seconds = heartbeat_seconds
        self.rescan_seconds = rescan_seconds
        self.sweep_seconds = sweep_seconds
        self.exit_when_idle = exit_when_idle
        self.rng = rng or random.Random()
        self.shard = shard
        self.parent_pid = parent_pid
        self.shutdown = False
        self.signals = 0
        self.sent = 0
        self.lanes: dict[int, Lane] = {}
        self.resting: dict[int, datetime] = {}
        self.results: queue.Queue[LaneResult] = queue.Queue()
        self.work: queue.Queue[Lane | None] = queue.Queue()
        self.pool: list[threading.Thread] = []
        self.engines: list[Engine] = []
        self.campaign_cache: dict = {}  # shared by the threads' engines (Engine.sending_campaigns)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.say = report or (lambda line: None)
        self.next_beat = self.next_sweep = self.next_rescan = self.clock.now()
        self.next_launch: datetime | None = None  # the next scheduled campaign's start, read at each rescan
        self.announced_stop = False

    # --- signals ------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.handle_signal)
        signal.signal(signal.SIGINT, self.handle_signal)

    def handle_signal(self, signum: int, frame: object) -> None:
        """First signal: finish what is in flight and stop. Second: exit at once."""
        self.signals += 1
        if self.signals > 1:
            self.abandon_in_flight()
            os._exit(128 + signum)
        self.shutdown = True

    def abandon_in_flight(self) -> None:
        """Mark the messages being sent ``unknown`` before a forced exit, within a moment.

        On a thread of its own, with its own connection: the signal may have interrupted
        the main thread in the middle of a query on its connection. If the database does
        not answer in time the process exits anyway and the sweep does it later.
        """
        claims = {pk: token for engine in list(self.engines) for pk, token in list(engine.in_flight.items())}
        if not claims:
            return

        def abandon() -> None:
            try:
                Engine(self.clock, worker_name=self.name).abandon(claims, self.clock.now())
            except Exception:
                log.exception("could not mark the messages in flight unknown")
            finally:
                connections.close_all()

        marker = threading.Thread(target=abandon, name="goteo-abandono", daemon=True)
        marker.start()
        marker.join(ABANDON_SECONDS)

    # --- the loop -----------------------------------------------------------------------
    def run(self) -> int:
        """Send until stopped (or idle, with ``exit_when_idle``); returns the exit status."""
        now = self.clock.now()
        self.say(f"Worker {self.name} iniciado ({self.threads or 1} envíos a la vez).")
        if self.threads:
            self.pool = [
                threading.Thread(target=self.pool_thread, name=f"goteo-envio-{n}", daemon=True)
                for n in range(self.threads)
            ]
            for thread in self.pool:
                thread.start()
        try:
            while not self.shutdown:
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    self.say("El supervisor ya no está; el worker termina.")
                    break
                refresh_connections()
                now = self.clock.now()
                rescanned = self.housekeeping(now)
                self.dispatch(now)
                if self.exit_when_idle and rescanned and not self.lanes:
                    self.say("Nada más que enviar por ahora; el worker termina.")
                    break
                self.wait((self.next_event(now) - now).total_seconds())
        finally:
            self.stop()
        return 0

    def housekeeping(self, now: datetime) -> bool:
        """Heartbeat, sweep and rescan, each on its own timer; True if it rescanned."""
        rescanned = False
        try:
            if now >= self.next_sweep:
                engine = self.engine()
                engine.sweep_stale(now)
                engine.expire_campaigns(now)
                # The legal profile and each number's risk, as process_campaigns checks them.
                apply_safeguards(now, self.my_campaigns(), RunSummary(), self.say)
                # Replies people are owed (an opt-out's confirmation), within each number's rules.
                replies.send_due(now, transport_factory=self.transport_factory, report=self.say)
                self.next_sweep = now + timedelta(seconds=self.sweep_seconds)
            if self.next_launch is not None and now >= self.next_launch:
                # A scheduled campaign starts: launched at its moment, then its number's lane opens.
                launch_due(now, self.say)
                self.next_rescan = now
            if now >= self.next_rescan:
                self.next_launch = next_start()
                self.rescan(now)
                self.next_rescan = now + timedelta(seconds=self.rescan_seconds)
                rescanned = True
            if now >= self.next_beat:
                self.beat(now)
                self.next_beat = now + timedelta(seconds=self.heartbeat_seconds)
        except DatabaseError as exc:
            log.warning("database unavailable: %s", exc)
            self.say(f"⚠ La base de datos no responde ({exc}); se reintenta en {ERROR_REST:.0f} s.")
            drop_connection()
            retry = now + timedelta(seconds=ERROR_REST)
            self.next_beat, self.next_sweep, self.next_rescan = (
                retry if moment <= now else moment
                for moment in (self.next_beat, self.next_sweep, self.next_rescan)
            )
        return rescanned

    def beat(self, now: datetime, **fields: Any) -> None:
        WorkerHeartbeat.beat(
            self.name,
            now,
            hostname=socket.gethostname()[:100],
            pid=os.getpid(),
            senders=len(self.lanes),
            sent=self.sent,
            **fields,
        )

    def rescan(self, now: datetime) -> None:
        """Open a lane for every sender that may send before the next rescan."""
        horizon = now + timedelta(seconds=self.rescan_seconds)
        # Only senders without a lane are read: the rescan runs often and they are many.
        busy = [*self.lanes, *(pk for pk, rest in self.resting.items() if rest > now)]
        mine = self.engine().campaigns_by_sender(besides=busy, shard=self.shard)
        used = used_today_by([c for campaigns in mine.values() for c in campaigns], now)
        for sender_id, campaigns in mine.items():
            due = self.next_due(campaigns, now, used)
            if due is not None and due <= horizon:
                # The lane's first step uses the sender and campaigns just read, as later
                # steps use them (Engine.sending_campaigns): at start-up, with many numbers,
                # reading them again was a good part of the wait for the first sends.
                lane = self.lanes[sender_id] = Lane(sender_id, max(due, now))
                if due <= now:  # its first step comes at once, with what was just read
                    self.campaign_cache[(sender_id, None)] = (now, campaigns)
                    lane.sender = campaigns[0].sender

    def drives(self, sender_id: int) -> bool:
        """Whether this worker drives the sender (all of them, unless it has a shard)."""
        return self.shard is None or shard_of(sender_id, self.shard[1]) == self.shard[0]

    def my_campaigns(self) -> list[int] | None:
        """The active campaigns of the numbers this worker drives (None: all of them)."""
        if self.shard is None:
            return None
        active = Campaign.objects.filter(status=CampaignStatus.ACTIVE).values_list("pk", "sender_id")
        return [pk for pk, sender_id in active if self.drives(sender_id)]

    @staticmethod
    def next_due(
        campaigns: list[Campaign], now: datetime, used: dict[int, tuple[int, int]]
    ) -> datetime | None:
        """The earliest moment any of the campaigns may send, or None; ``used`` is their
        ``used_today_by``."""
        moments = [m for m in (next_send_at(c, now, used=used[c.pk]) for c in campaigns) if m is not None]
        return min(moments, default=None)

    def dispatch(self, now: datetime) -> None:
        """Start a step on every lane that is due and not already running."""
        due = sorted(
            (lane for lane in self.lanes.values() if not lane.busy and lane.due <= now),
            key=lambda lane: lane.due,
        )
        for lane in due:
            if self.shutdown:
                return
            lane.busy = True
            if self.pool:
                self.work.put(lane)
            else:
                self.settle(self.serve(lane))

    def next_event(self, now: datetime) -> datetime:
        """When the main thread has something to do next."""
        moments = [self.next_beat, self.next_sweep, self.next_rescan]
        if self.next_launch is not None:
            moments.append(self.next_launch)
        moments += [lane.due for lane in self.lanes.values() if not lane.busy]
        return max(min(moments), now)

    def wait(self, seconds: float) -> None:
        """Sleep until the next event, in slices of at most one second.

        With threads it returns early when a lane reports back. Either way a stop request
        is honoured within a second.
        """
        if not self.pool:
            remaining = seconds
            while remaining > 0 and not self.shutdown:
                chunk = min(1.0, remaining)
                self.clock.sleep(chunk)
                remaining -= chunk
            return
        try:
            result = self.results.get(timeout=max(0.0, min(1.0, seconds)))
        except queue.Empty:
            return
        self.settle(result)
        while True:
            try:
                self.settle(self.results.get_nowait())
            except queue.Empty:
                return

    def settle(self, result: LaneResult) -> None:
        """Apply what a step decided to its lane (main thread only)."""
        lane = result.lane
        lane.busy = False
        self.sent += result.sent
        if result.next_due is not None and not self.shutdown:
            lane.due = result.next_due
            return
        lane.close()
        self.lanes.pop(lane.sender_id, None)
        if result.rest_until is not None:
            self.resting[lane.sender_id] = result.rest_until
        now = self.clock.now()
        if self.exit_when_idle and not self.lanes and not any(r > now for r in self.resting.values()):
            self.next_rescan = now  # the last lane closed: look once more, at once, and stop

    # --- one step on one lane (pool threads) ---------------------------------------------
    def engine(self) -> Engine:
        """This thread's engine (each thread has its own, and its own connection)."""
        engine = getattr(self.local, "engine", None)
        if engine is None:
            engine = WorkerEngine(
                self.clock,
                worker_name=self.name,
                report=self.report,
                rng=random.Random(self.rng.random()),
                transport_factory=self.transport_factory,
            )
            engine.shutdown = self.shutdown
            engine.campaign_cache = self.campaign_cache
            self.local.engine = engine
            with self.lock:
                self.engines.append(engine)
        return engine

    def pool_thread(self) -> None:
        """A pool thread: run steps until told to stop, then close its connection."""
        try:
            while True:
                lane = self.work.get()
                if lane is None:
                    return
                self.results.put(self.serve(lane))
        finally:
            connections.close_all()

    def serve(self, lane: Lane) -> LaneResult:
        """Run one step on ``lane``; never raises, so one bad step cannot stop the worker."""
        now = self.clock.now()
        if self.shutdown:  # dispatched just before the stop: leave it for the next run
            return LaneResult(lane, None)
        try:
            self.refresh_connection()
            return self.advance(self.engine(), lane, now)
        except Exception as exc:
            log.exception("step for sender %s failed", lane.sender_id)
            self.report(f"⚠ Error al enviar con el número {lane.sender_id}: {exc}; se reintenta.")
            drop_connection()
            return LaneResult(lane, None, rest_until=now + timedelta(seconds=ERROR_REST))

    def refresh_connection(self) -> None:
        """Drop this thread's connection if it is broken or old, at most once a second.

        With CONN_HEALTH_CHECKS each check costs PostgreSQL a round trip, which every step
        paid; a connection that breaks between checks fails its step, which drops it.
        """
        moment = time.monotonic()
        if moment >= getattr(self.local, "refresh_at", 0.0):
            refresh_connections()
            self.local.refresh_at = moment + REFRESH_SECONDS

    def advance(self, engine: Engine, lane: Lane, now: datetime) -> LaneResult:
        if lane.transport is None:
            sender = lane.sender or Sender.objects.filter(pk=lane.sender_id, is_active=True).first()
            if sender is None:
                return LaneResult(lane, None)
            transport = engine.connect(sender, lane.summary)
            if transport is None:
                return LaneResult(lane, None, now + timedelta(seconds=DISCONNECTED_REST))
            lane.sender, lane.transport = sender, transport
        assert lane.sender is not None
        sent_before = lane.summary.sent
        disconnected = len(lane.summary.disconnected)
        outcome = engine.step(lane.sender, lane.transport, None, lane.summary)
        sent = lane.summary.sent - sent_before
        if outcome is None:
            # The campaign just ran out: the next step closes the lane if nothing is left,
            # and otherwise finds the sender paced (a Wait until its next send).
            return LaneResult(lane, now, sent=sent)
        if outcome.reason == "handled" and outcome.until is not None:  # the claim's own pacing
            return LaneResult(lane, max(outcome.until, now), sent=sent)
        if len(lane.summary.disconnected) > disconnected:
            return LaneResult(lane, None, now + timedelta(seconds=DISCONNECTED_REST), sent)
        if outcome.reason == "stop" or outcome.until is None:
            return LaneResult(lane, None, sent=sent)
        if (outcome.until - now).total_seconds() > LONG_WAIT:
            # A long backoff closes the lane; the rescan reopens it, so new work is not held up.
            return LaneResult(lane, None, now + timedelta(seconds=LONG_WAIT), sent)
        return LaneResult(lane, outcome.until, sent=sent)

    def report(self, line: str) -> None:
        with self.lock:
            self.say(line)

    # --- stopping -----------------------------------------------------------------------
    def stop(self) -> None:
        """Let steps in flight finish, close the transports and record the stop."""
        self.shutdown = True
        with self.lock:
            for engine in self.engines:
                engine.shutdown = True
        if self.signals:
            self.say("Deteniendo: se termina de registrar lo que está en curso…")
        for _thread in self.pool:
            self.work.put(None)
        for thread in self.pool:
            thread.join()
        if self.pool:
            while True:
                try:
                    self.settle(self.results.get_nowait())
                except queue.Empty:
                    break
        for lane in list(self.lanes.values()):
            lane.close()
        self.lanes.clear()
        now = self.clock.now()
        try:
            refresh_connections()
            self.beat(now, stopped_at=now)
        except DatabaseError as exc:
            log.warning("could not record the worker's stop: %s", exc)
        self.say(f"Worker {self.name} detenido: {counted(self.sent, 'enviado')}.")


def tune_collector() -> None:
    """Set the garbage collector up for a process that sends for months.

    Everything loaded so far (Django, the models, the providers' clients) lives as long
    as the process, so it is frozen out of the collector's passes; and new objects are
    collected every YOUNG_COLLECTION_EVERY allocations instead of every 700. Each message
    allocates thousands of short-lived objects (queries, HTTP requests), and with the
    defaults the collections took about a tenth of the worker's processor time.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 20)


def drop_connection() -> None:
    """Close this thread's database connection so the next query opens a fresh one.

    Never inside a transaction: closing there would throw away the caller's work (and,
    in tests, the test's own transaction).
    """
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except Exception:  # a connection the server already dropped may fail to close
        log.debug("closing a broken connection failed", exc_info=True)
