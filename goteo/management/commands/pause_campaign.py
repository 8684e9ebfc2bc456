"""``goteo pause_campaign ID``: stop sending; pending messages wait."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from goteo.management.base import GoteoCommand
from goteo.management.output import get_campaign


class Command(GoteoCommand):
    help = "Pausa una campaña activa; lo pendiente espera hasta reanudarla."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int, metavar="CAMPAÑA")
        parser.add_argument("--reason", default="pausada por una persona")

    def handle(self, *args: Any, campaign_id: int, reason: str, **options: Any) -> None:
        campaign = get_campaign(campaign_id)
        if not campaign.pause(reason=reason):
            raise CommandError(
                f"La campaña {campaign_id} no está en progreso ({campaign.get_status_display()})."
            )
        self.stdout.write(f"Campaña {campaign.name} pausada.")
