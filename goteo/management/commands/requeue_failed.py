"""``goteo requeue_failed ID``: try failed messages again."""

from django.core.management.base import CommandError
from django.utils import timezone

from goteo.management.base import GoteoCommand
from goteo.management.output import get_campaign
from goteo.models import CampaignStatus


class Command(GoteoCommand):
    help = "Vuelve a poner en cola los mensajes fallidos (no a quienes se dieron de baja)."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)

    def handle(self, *args, campaign_id, **options):
        campaign = get_campaign(campaign_id)
        if campaign.status == CampaignStatus.CANCELLED:
            raise CommandError(f"La campaña {campaign.name} está cancelada; no se reintenta nada.")
        n = campaign.requeue_failed(timezone.now())
        if n == 1:
            self.stdout.write(f"1 mensaje fallido vuelve a estar pendiente en {campaign.name}.")
        else:
            self.stdout.write(f"{n} mensajes fallidos vuelven a estar pendientes en {campaign.name}.")
