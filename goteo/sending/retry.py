"""Writing an outcome again while the database is away: the worker's record policy.

The message has already gone out (or certainly not) when its outcome is written, so a
database restart at that moment should not leave it ``sending``. The writes are guarded by
the claim token, so writing them again changes nothing that was already written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, connection

from goteo.clock import Clock

log = logging.getLogger("goteo.worker")

T = TypeVar("T")
RECORD_RETRY_SECONDS = 60.0  # how long an outcome is retried while the database is away


class RetryWhileDatabaseAway:
    """A record policy (``Engine(record_retry=...)``): on a database error, reconnect and
    write again, once a second, for up to ``seconds``; then the error is the caller's."""

    def __init__(self, clock: Clock, seconds: float = RECORD_RETRY_SECONDS) -> None:
        self.clock = clock
        self.seconds = seconds

    def __call__(self, write: Callable[[], T]) -> T:
        waited = 0.0
        while True:
            try:
                return write()
            except DatabaseError:
                if waited >= self.seconds:
                    raise
                log.warning("database unavailable while recording an outcome; retrying")
                drop_connection()
                self.clock.sleep(1.0)
                waited += 1.0


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
