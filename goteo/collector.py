"""The garbage collector, tuned for a worker process that runs for months."""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 50_000  # allocations between collections of new objects (CPython: 700)


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
