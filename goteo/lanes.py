"""The worker's lanes: one per sender it drives, each holding the moment it may next send.

A step on a lane (``advance``) runs one engine step (claim, send, record) and decides when
the lane runs next, or that it closes and rests: a number that is disconnected is checked
again later, and a long backoff is left to the next rescan. A ``StepPool`` runs the steps
on a few threads and hands their results back to the worker's main thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from queue import Empty, SimpleQueue

from django.db import connections

from goteo.forecast import next_send_at
from goteo.models import Campaign, Sender
from goteo.sending import Engine, RunSummary, Step
from goteo.transports import Transport

log = logging.getLogger("goteo.worker")

DISCONNECTED_REST = 300.0  # a number that cannot send is checked again after this
LONG_WAIT = 300.0  # a lane whose next send is further away is closed until the rescan


@dataclass
class Lane:
    """One sender the worker is driving, the moment it may next send, and its engine (a
    lane's steps never overlap, so what its engine holds is never shared)."""

    sender_id: int
    due: datetime
    engine: Engine
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


def next_due(campaigns: list[Campaign], now: datetime, used: dict[int, tuple[int, int]]) -> datetime | None:
    """The earliest moment any of the campaigns may send, or None; ``used`` is their
    ``status.used_today_by``."""
    moments = [m for m in (next_send_at(c, now, used=used[c.pk]) for c in campaigns) if m is not None]
    return min(moments, default=None)


def advance(lane: Lane, now: datetime) -> LaneResult:
    """Run one step on ``lane``: connect its sender first if needed, then claim, send and
    record one message."""
    engine = lane.engine
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
    result = engine.step(lane.sender, lane.transport, None, lane.summary)
    sent = lane.summary.sent - sent_before
    if result.step is Step.HANDLED:
        # Without a moment the campaign just ran out: the next step closes the lane if
        # nothing is left, and otherwise finds the sender paced (a Wait until its next send).
        return LaneResult(lane, max(result.until or now, now), sent=sent)
    if result.step is Step.DISCONNECTED:
        return LaneResult(lane, None, now + timedelta(seconds=DISCONNECTED_REST), sent)
    if result.step is Step.STOP or result.until is None:
        return LaneResult(lane, None, sent=sent)
    if (result.until - now).total_seconds() > LONG_WAIT:
        # A long backoff closes the lane; the rescan reopens it, so new work is not held up.
        return LaneResult(lane, None, now + timedelta(seconds=LONG_WAIT), sent)
    return LaneResult(lane, result.until, sent=sent)


class StepPool:
    """``threads`` threads running lanes' steps; the main thread collects what they decided.

    A finished step's future goes into one queue, so waiting for the next result costs the
    same however many steps are in flight.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="goteo-envio")
        self.running: set[Future[LaneResult]] = set()
        self.finished: SimpleQueue[Future[LaneResult]] = SimpleQueue()

    def submit(self, step: Callable[[Lane], LaneResult], lane: Lane) -> None:
        future = self.executor.submit(step, lane)
        self.running.add(future)
        future.add_done_callback(self.finished.put)

    def results(self, seconds: float) -> list[LaneResult]:
        """What the steps that finished decided, waiting up to ``seconds`` for the first one.

        ``step`` must never raise: its result is taken as it is.
        """
        if not self.running:
            time.sleep(max(0.0, seconds))
            return []
        try:
            done = [self.finished.get(timeout=max(0.0, seconds))]
        except Empty:
            return []
        while True:  # and every other step that finished meanwhile
            try:
                done.append(self.finished.get_nowait())
            except Empty:
                break
        return self.take(done)

    def take(self, done: Iterable[Future[LaneResult]]) -> list[LaneResult]:
        taken = [future for future in done if future in self.running]  # each result once
        self.running.difference_update(taken)
        return [future.result() for future in taken]

    def shutdown(self) -> list[LaneResult]:
        """Wait for the steps in flight, close each thread's connection; what they decided."""
        barrier = threading.Barrier(self.threads)

        def close() -> None:  # one per thread: each waits until all have started
            connections.close_all()
            barrier.wait(timeout=30)

        for _ in range(self.threads):
            self.executor.submit(close)
        self.executor.shutdown(wait=True)
        return self.take(list(self.running))
