"""``goteo resume_campaign ID``: send again after a pause."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.brakes import resume_warning
from goteo.management.base import GoteoCommand
from goteo.management.output import get_campaign


class Command(GoteoCommand):
    help = "Reanuda una campaña pausada."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int, metavar="CAMPAÑA")

    def handle(self, *args: Any, campaign_id: int, **options: Any) -> None:
        campaign = get_campaign(campaign_id)
        if not campaign.resume():
            raise CommandError(f"La campaña {campaign_id} no está pausada ({campaign.get_status_display()}).")
        self.stdout.write(f"Campaña {campaign.name} reanudada.")
        sender = campaign.sender
        warning = resume_warning(
            sender, timezone.now(), how=f"levante el freno con: goteo unbrake {sender.name}"
        )
        if warning:
            self.stdout.write(f"⚠ {warning}")
