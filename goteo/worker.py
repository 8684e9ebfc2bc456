"""The long-running worker: sends for every number with work, each at its own pace.

One process drives many senders at once. Each sender with work is a *lane* (goteo.lanes)
holding the moment it may next send. A small pool of threads takes whichever lane is due
and runs one step for it (claim, send, record), so a hundred numbers paced ten seconds apart
finish their day in about the time one number needs. Database connections stay bounded
by the pool size, whatever the number of senders.

The main thread only schedules: it writes the heartbeat, sweeps messages left ``sending``
by a dead worker, finds senders with work, and sleeps until the earliest moment one of
them may send (its window, caps and pacing, from ``goteo.forecast``). Outside the windows
it wakes only for the heartbeat and to notice new or resumed campaigns.

Stopping: SIGTERM or SIGINT only sets a flag. Messages in flight finish and are recorded,
then the process exits 0. A second signal exits at once, marking the messages in flight
``unknown`` first (if the database answers within two seconds; otherwise the sweep does it
later): they are never sent twice.

Several workers, on one machine or several, share the work through the database alone:
every claim is a compare-and-set and every cap a conditional increment (goteo.sending).
``run_worker --processes N`` runs N workers on one machine, each driving its share of the
numbers (goteo.supervisor), so that one machine's cores all send.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connections

from goteo import replies
from goteo.automations import run_automations, skip_late
from goteo.clock import Clock, SystemClock
from goteo.forecast import used_today_by
from goteo.lanes import Lane, LaneResult, StepPool, advance, next_due
from goteo.management.output import counted
from goteo.models import Campaign, CampaignStatus, Message, Sender, WorkerHeartbeat
from goteo.safeguards import apply_safeguards
from goteo.scheduling import launch_due, next_start
from goteo.sending import Engine, default_worker_name, refresh_connections
from goteo.sending.retry import RetryWhileDatabaseAway, drop_connection
from goteo.sending.run import CampaignCache, campaigns_by_sender
from goteo.supervisor import shard_of
from goteo.transports import Transport, transport_for

log = logging.getLogger("goteo.worker")

HEARTBEAT_SECONDS = 15.0
RESCAN_SECONDS = 60.0  # how often to look for new or resumed campaigns
SWEEP_SECONDS = 60.0
ENROLL_SECONDS = 300.0  # at most this often, at a rescan, automations enroll who is due (and skip the late)
ERROR_REST = 5.0  # after a database or unexpected error, a lane waits this long
REFRESH_SECONDS = 1.0  # how often a pool thread checks its database connection
ABANDON_SECONDS = 2.0  # how long a forced stop waits to mark the messages in flight unknown


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
        self.pool: StepPool | None = None
        self.campaign_cache: CampaignCache = {}  # shared by the lanes' engines (Engine.sending_campaigns)
        self.local = threading.local()  # when each pool thread last checked its connection
        self.lock = threading.Lock()
        self.say = report or (lambda line: None)
        self.next_beat = self.next_sweep = self.next_rescan = self.next_enroll = self.clock.now()
        self.record_retry = RetryWhileDatabaseAway(self.clock)
        self.next_launch: datetime | None = None  # the next scheduled campaign's start, read at each rescan

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
        claims = {
            pk: token
            for lane in list(self.lanes.values())
            for pk, token in list(lane.engine.in_flight.items())
        }
        if not claims:
            return

        def abandon() -> None:
            try:
                Message.objects.abandon(claims, self.clock.now(), self.name)
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
        self.say(f"Worker {self.name} iniciado ({self.threads or 1} envíos a la vez).")
        if self.threads:
            self.pool = StepPool(self.threads)
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
                Message.objects.sweep_stale(now, self.name)
                Campaign.objects.expire(now, report=self.say)
                mine = self.my_campaigns()
                skip_late(now, mine)  # automations' messages past their deadline
                # The legal profile and each number's risk, as process_campaigns checks them.
                apply_safeguards(now, mine, self.say)
                # Replies people are owed (an opt-out's confirmation), within each number's rules.
                replies.send_due(now, transport_factory=self.transport_factory, report=self.say)
                self.next_sweep = now + timedelta(seconds=self.sweep_seconds)
            if self.next_launch is not None and now >= self.next_launch:
                # A scheduled campaign starts: launched at its moment, then its number's lane opens.
                launch_due(now, self.say)
                self.next_rescan = now
            if now >= self.next_rescan:
                if now >= self.next_enroll:
                    # Automations enroll who is due today, before the rescan opens their lanes.
                    run_automations(now, self.say, self.my_campaigns())
                    self.next_enroll = now + timedelta(seconds=ENROLL_SECONDS)
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
            self.next_beat, self.next_sweep, self.next_rescan, self.next_enroll = (
                retry if moment <= now else moment
                for moment in (self.next_beat, self.next_sweep, self.next_rescan, self.next_enroll)
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
        mine = campaigns_by_sender(besides=busy, shard=self.shard)
        used = used_today_by([c for campaigns in mine.values() for c in campaigns], now)
        for sender_id, campaigns in mine.items():
            due = next_due(campaigns, now, used)
            if due is not None and due <= horizon:
                # The lane's first step uses the sender and campaigns just read, as later
                # steps use them (Engine.sending_campaigns): at start-up, with many numbers,
                # reading them again was a good part of the wait for the first sends.
                lane = self.lanes[sender_id] = Lane(sender_id, max(due, now), self.engine())
                if due <= now:  # its first step comes at once, with what was just read
                    self.campaign_cache[(sender_id, None)] = (now, campaigns)
                    lane.sender = campaigns[0].sender

    def engine(self) -> Engine:
        """An engine for a new lane, sharing the worker's campaign cache and record policy."""
        engine = Engine(
            self.clock,
            worker_name=self.name,
            report=self.report,
            rng=random.Random(self.rng.random()),
            transport_factory=self.transport_factory,
            record_retry=self.record_retry,
        )
        engine.campaign_cache = self.campaign_cache
        return engine

    def drives(self, sender_id: int) -> bool:
        """Whether this worker drives the sender (all of them, unless it has a shard)."""
        return self.shard is None or shard_of(sender_id, self.shard[1]) == self.shard[0]

    def my_campaigns(self) -> list[int] | None:
        """The active campaigns of the numbers this worker drives (None: all of them)."""
        if self.shard is None:
            return None
        active = Campaign.objects.filter(status=CampaignStatus.ACTIVE).values_list("pk", "sender_id")
        return [pk for pk, sender_id in active if self.drives(sender_id)]

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
            if self.pool is not None:
                self.pool.submit(self.serve, lane)
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

        With threads it returns early when a step finishes. Either way a stop request is
        honoured within a second.
        """
        if self.pool is None:
            remaining = seconds
            while remaining > 0 and not self.shutdown:
                chunk = min(1.0, remaining)
                self.clock.sleep(chunk)
                remaining -= chunk
            return
        for result in self.pool.results(min(1.0, seconds)):
            self.settle(result)

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
    def serve(self, lane: Lane) -> LaneResult:
        """Run one step on ``lane``; never raises, so one bad step cannot stop the worker."""
        now = self.clock.now()
        if self.shutdown:  # dispatched just before the stop: leave it for the next run
            return LaneResult(lane, None)
        try:
            self.refresh_connection()
            return advance(lane, now)
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

    def report(self, line: str) -> None:
        with self.lock:
            self.say(line)

    # --- stopping -----------------------------------------------------------------------
    def stop(self) -> None:
        """Let steps in flight finish, close the transports and record the stop."""
        self.shutdown = True
        if self.signals:
            self.say("Deteniendo: se termina de registrar lo que está en curso…")
        if self.pool is not None:
            for result in self.pool.shutdown():
                self.settle(result)
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
