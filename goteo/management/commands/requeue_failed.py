"""``goteo requeue_failed ID``: try failed messages again."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.management.base import GoteoCommand
from goteo.management.output import get_campaign
from goteo.models import CampaignStatus, MessageStatus
from goteo.models.messages import landlines_allowed


class Command(GoteoCommand):
    help = "Vuelve a poner en cola los mensajes fallidos (no a quienes se dieron de baja)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int, metavar="CAMPAÑA")

    def handle(self, *args: Any, campaign_id: int, **options: Any) -> None:
        campaign = get_campaign(campaign_id)
        if campaign.status == CampaignStatus.CANCELLED:
            raise CommandError(f"La campaña {campaign.name} está cancelada; no se reintenta nada.")
        n = campaign.requeue_failed(timezone.now())
        if n == 1:
            self.stdout.write(f"1 mensaje fallido vuelve a estar pendiente en {campaign.name}.")
        else:
            self.stdout.write(f"{n} mensajes fallidos vuelven a estar pendientes en {campaign.name}.")
        if not landlines_allowed():
            fixed = campaign.messages.filter(status=MessageStatus.FAILED, contact__landline=True).count()
            if fixed:
                if fixed == 1:
                    self.stdout.write(
                        "1 mensaje fallido no se reintenta: es un teléfono fijo y WhatsApp no llega a él."
                    )
                else:
                    self.stdout.write(
                        f"{fixed} mensajes fallidos no se reintentan: son teléfonos fijos y WhatsApp no llega a ellos."
                    )
