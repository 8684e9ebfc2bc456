"""``goteo campaign_status [ID]``: progress, next send and forecast of campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from goteo.funnel import rate
from goteo.heartbeat import worker_status_text
from goteo.management.base import GoteoCommand
from goteo.management.output import get_campaign, summary_card, to_json
from goteo.models import Campaign, CampaignStatus
from goteo.risk import Risk, sender_risk
from goteo.schedule import describe_moment
from goteo.status import campaign_summary
from goteo.web.formatting import rate_text

JSON_KEYS = [
    "id",
    "name",
    "status",
    "total",
    "sent",
    "pending",
    "failed",
    "skipped",
    "unknown",
    "simulated",
    "simulation",
    "delivered",
    "read",
    "replied",
    "redeemed",
    "opted_out",
    "next_send_at",
    "estimated_completion",
    "frequency_held",
    "warmup",
    "automation",
    "trigger",
    "trigger_label",
    "grace_days",
]


class Command(GoteoCommand):
    help = "Muestra el avance de una campaña (o de todas las que no están terminadas)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", nargs="?", type=int, metavar="CAMPAÑA")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, campaign_id: int | None = None, json: bool = False, **options: Any) -> None:
        now = timezone.now()
        if campaign_id is not None:
            campaigns = [get_campaign(campaign_id)]
        else:
            campaigns = list(
                Campaign.objects.exclude(status=CampaignStatus.CANCELLED).select_related(
                    "promotion", "sender"
                )
            )
        summaries = [campaign_summary(c, now) for c in campaigns]
        risks = {c.sender_id: sender_risk(c.sender, now) for c in campaigns}  # once per number
        if json:
            data = [
                {k: s[k] for k in JSON_KEYS}
                | {
                    "percent": s["percent"],
                    "receivable": s["receivable"],
                    "progress_percent": s["progress_percent"],
                    "sender_risk": risks[c.sender_id].as_dict(),
                }
                for c, s in zip(campaigns, summaries, strict=True)
            ]
            self.stdout.write(to_json(data[0] if campaign_id is not None else data))
            return
        if not summaries:
            self.stdout.write("No hay campañas. Cree una con: goteo create_campaign --help")
        for c, s in zip(campaigns, summaries, strict=True):
            self.stdout.write(summary_card(s))
            if s["sent"] and not c.simulation:
                self.stdout.write(results_line(s))
            for line in rule_lines(c, s, risks[c.sender_id], now):
                self.stdout.write(line)
            self.stdout.write("")
        self.stdout.write(worker_status_text(now))


def results_line(s: dict[str, Any]) -> str:
    """What the sent messages brought in, from the counters, each as a share of those sent."""
    shown = [
        ("Entregados", s["delivered"]),
        ("Leídos", s["read"]),
        ("Respondieron", s["replied"]),
        ("Canjearon", s["redeemed"]),
        ("Pidieron la baja", s["opted_out"]),
    ]
    return "📈 " + " · ".join(f"{what}: {n} ({rate_text(rate(n, s['sent']))})" for what, n in shown)


def rule_lines(campaign: Campaign, s: dict[str, Any], risk: Risk, now: datetime) -> list[str]:
    """The number's risk and warm-up, and who waits for the frequency cap (docs/compliance.md)."""
    lines = [f"Número {s['sender']}: {risk.describe()}"]
    if s["warmup"]:
        lines.append(f"Calentamiento: {s['warmup']}")
    if s["frequency_held"]:
        until = describe_moment(s["frequency_held_until"], now, campaign.sender.tz)
        lines.append(
            f"Tope de frecuencia: {s['frequency_held']} {'espera' if s['frequency_held'] == 1 else 'esperan'} "
            "por haber recibido otra promoción "
            f"(el primero, desde {until})"
        )
    return lines
