"""``goteo campaign_status [ID]``: progress, next send and forecast of campaigns."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from goteo.management.output import get_campaign, summary_card, to_json
from goteo.models import Campaign, CampaignStatus
from goteo.status import campaign_summary

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
    "next_send_at",
    "estimated_completion",
]


class Command(BaseCommand):
    help = "Muestra el avance de una campaña (o de todas las que no están terminadas)."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", nargs="?", type=int)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, campaign_id=None, json=False, **options):
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
        if json:
            data = [{k: s[k] for k in JSON_KEYS} | {"percent": s["percent"]} for s in summaries]
            self.stdout.write(to_json(data[0] if campaign_id is not None else data))
            return
        if not summaries:
            self.stdout.write("No hay campañas. Cree una con: goteo create_campaign --help")
        for s in summaries:
            self.stdout.write(summary_card(s))
            self.stdout.write("")
