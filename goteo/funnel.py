"""The results funnel: what a campaign's messages became, read from the counters on its row.

sent → delivered → read → replied → redeemed, with the opt-outs and failures beside them,
each as a count and a share of those sent. Receipts move delivered and read
(goteo.receipts), replies move replied and opted out, the counter moves redeemed: nothing
here scans the messages, so it costs the same at a million of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from goteo.models import Campaign

# (counter, what the shop owner calls it), in the funnel's order; then what sits beside it.
STEPS = (
    ("sent", _("Enviados")),
    ("delivered", _("Entregados")),
    ("read", _("Leídos")),
    ("replied", _("Respondieron")),
    ("redeemed", _("Canjearon")),
)
BESIDE = (
    ("opted_out", _("Pidieron la baja")),
    ("failed", _("Fallidos")),
)


@dataclass(frozen=True)
class Step:
    """One bar of the funnel: how many, and their share of those sent (None when none was sent)."""

    key: str
    label: str | Promise
    count: int
    rate: float | None

    @property
    def bar(self) -> int:
        """The bar's length, 0 to 100 (a late receipt may count more than were sent)."""
        return min(100, round(self.rate)) if self.rate is not None else 0


def rate(part: int, sent: int) -> float | None:
    """``part`` as a percentage of ``sent``, to one decimal; None when nothing was sent."""
    return round(100 * part / sent, 1) if sent > 0 else None


def results(campaign: Campaign) -> dict[str, int]:
    """The funnel's counts: the keys campaign_status --json gains, and sent and failed."""
    return {
        "sent": campaign.sent_count,
        "delivered": campaign.delivered_count,
        "read": campaign.read_count,
        "replied": campaign.replied_count,
        "redeemed": campaign.redeemed_count,
        "opted_out": campaign.opted_out_count,
        "failed": campaign.failed_count,
    }


def funnel(campaign: Campaign) -> dict[str, list[Step]]:
    """The steps in order and the two beside them, each with its share of those sent."""
    counts = results(campaign)
    sent = counts["sent"]

    def steps(which: tuple[tuple[str, str | Promise], ...]) -> list[Step]:
        return [Step(key, label, counts[key], rate(counts[key], sent)) for key, label in which]

    return {"steps": steps(STEPS), "beside": steps(BESIDE)}
