"""``goteo cancel_campaign ID``: stop for good; what is pending is skipped."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.management.base import GoteoCommand
from goteo.management.output import counted, get_campaign
from goteo.models import CampaignStatus


class Command(GoteoCommand):
    help = "Cancela una campaña: lo pendiente queda omitido y no se enviará."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int, metavar="CAMPAÑA")
        parser.add_argument("--yes", action="store_true", help="no pedir confirmación")

    def handle(self, *args: Any, campaign_id: int, yes: bool, **options: Any) -> None:
        campaign = get_campaign(campaign_id)
        if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
            raise CommandError(f"La campaña {campaign_id} ya está {campaign.get_status_display().lower()}.")
        if not yes:
            answer = input(
                f"¿Cancelar '{campaign.name}' ({counted(campaign.pending_count, 'pendiente')})? [s/N] "
            )
            if answer.strip().lower() not in ("s", "si", "sí", "y", "yes"):
                self.stdout.write("No se canceló.")
                return
        skipped = campaign.cancel(timezone.now())
        self.stdout.write(
            f"Campaña {campaign.name} cancelada; {counted(skipped, 'mensaje pendiente omitido', 'mensajes pendientes omitidos')}."
        )
