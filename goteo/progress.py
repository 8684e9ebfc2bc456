"""How far a campaign has come: sent over the people who can receive it.

People skipped (no consent, opted out, an invalid phone, an expired promotion...) cannot
receive it, so they are counted apart: a finished campaign that skipped two of ten shows
"8 de 8", not 80%. The command line and the dashboard both show this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    sent: int
    receivable: int  # everyone but the skipped
    skipped: int
    percent: int  # of ``receivable``; 100 only once all of them are sent

    def share(self, part: int) -> int:
        """Whole percentage of ``part`` in the people who can receive it."""
        return round(100 * part / self.receivable) if self.receivable else 0


def campaign_progress(counts: Mapping[str, int]) -> Progress:
    """``Progress`` from a campaign's ``counts()`` (total, sent, skipped...)."""
    sent, skipped = counts["sent"], counts["skipped"]
    receivable = max(0, counts["total"] - skipped)
    # Rounded down, so 199 of 200 reads 99% and not a finished 100%.
    percent = min(100, 100 * sent // receivable) if receivable else 0
    return Progress(sent=sent, receivable=receivable, skipped=skipped, percent=percent)
