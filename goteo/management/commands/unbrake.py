"""``goteo unbrake NUMBER``: let a braked number send again, after a person has looked."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.brakes import braked_until_text, console_actor, find_sender, lift, paused_by_brake
from goteo.management.base import GoteoCommand


class Command(GoteoCommand):
    help = (
        "Levanta el freno de un número de WhatsApp (por su nombre, como «principal», o su "
        "teléfono) para que vuelva a enviar. Queda anotado quién lo levantó y cuándo. "
        "Las campañas pausadas por el freno siguen en pausa hasta reanudarlas."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "number", metavar="NÚMERO", help="nombre del número (p. ej. principal) o su teléfono"
        )

    def handle(self, *args: Any, number: str, **options: Any) -> None:
        sender = find_sender(number)
        if sender is None:
            raise CommandError(f"No hay ningún número llamado o con teléfono «{number}».")
        now = timezone.now()
        if not sender.is_braked(now):
            self.stdout.write(f"El número «{sender.name}» no está frenado; no hay nada que levantar.")
            return
        until, reason = braked_until_text(sender), sender.pause_reason
        who = console_actor()
        if not lift(sender, who, now):
            raise CommandError(f"El freno de «{sender.name}» cambió mientras tanto; vuelva a intentarlo.")
        self.stdout.write(
            f"Freno levantado: el número «{sender.name}» puede volver a enviar "
            f"(estaba frenado hasta el {until}: {reason}). Anotado a nombre de {who}."
        )
        paused = paused_by_brake(sender)
        if paused:
            ids = ", ".join(f"{c.name} (#{c.pk})" for c in paused)
            self.stdout.write(f"Siguen en pausa: {ids}. Reanude cada una con: goteo resume_campaign ID")
