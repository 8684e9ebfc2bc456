"""Write transactions that take turns on SQLite.

SQLite admits one writer at a time and makes the others poll with sleeps that grow to
100 ms. The threads of one process take turns on ``SQLITE_WRITER`` first, so the turn
passes at once; other processes still wait on SQLite's own lock. The worker's frequent
writes go through ``write_transaction``: claims and outcomes, the health check's cache,
the heartbeat, the frequency hold, the sweep and expiry. A frequent write left out waits
on SQLite's sleeps whenever a claim is being written; rare ones (a brake, an opt-out)
only cost that wait.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

SQLITE_WRITER = threading.Lock()


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that writes; on SQLite this process's threads take turns first."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with SQLITE_WRITER, transaction.atomic():
            yield
    else:
        with transaction.atomic():
            yield
