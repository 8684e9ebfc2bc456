"""The seed's names for a campaign's counters, so its «Verificar en Python» snippet runs as written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

# The message states a campaign keeps a counter for (``<status>_count``).
COUNTED_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "unknown", "simulated")


class Counted(Protocol):
    """What the names read: a campaign's counters."""

    sent_count: int
    pending_count: int
    failed_count: int

    def counts(self) -> dict[str, int]: ...

    def refresh_from_db(self, using: str | None = None, fields: Sequence[str] | None = None) -> None: ...


class SeedNames:
    """``campaign.update_stats()``, ``messages_sent``, ``messages_pending``, ``messages_failed``."""

    def update_stats(self: Counted) -> dict[str, int]:
        """Read the campaign's current counters (the seed's name; returns ``counts()``).

        The counters change with every message, so this only reads them again; ``recount``
        is the repair that rebuilds them from the messages.
        """
        self.refresh_from_db(fields=["status", "total_count", *(f"{s}_count" for s in COUNTED_STATUSES)])
        return self.counts()

    @property
    def messages_sent(self: Counted) -> int:
        """The seed's name for ``sent_count``."""
        return self.sent_count

    @property
    def messages_pending(self: Counted) -> int:
        """The seed's name for ``pending_count``."""
        return self.pending_count

    @property
    def messages_failed(self: Counted) -> int:
        """The seed's name for ``failed_count``."""
        return self.failed_count
