"""``goteo sender_risk [NÚMERO] [--json]``: how close each number is to being blocked."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.management.base import GoteoCommand
from goteo.management.output import to_json
from goteo.models import Sender
from goteo.risk import sender_risk


class Command(GoteoCommand):
    help = (
        "Muestra el riesgo de bloqueo de cada número: fallos, frenos, destinatarios sin WhatsApp, "
        "bajas, calidad en Meta y calentamiento."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sender", nargs="?", metavar="NÚMERO", help="solo este número")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, sender: str | None = None, json: bool = False, **options: Any) -> None:
        now = timezone.now()
        senders = Sender.objects.filter(name=sender) if sender else Sender.objects.filter(is_active=True)
        if sender and not senders:
            raise CommandError(f"No existe el número {sender!r}.")
        report = [(s, sender_risk(s, now)) for s in senders]
        if json:
            self.stdout.write(to_json({"senders": [{"name": s.name} | r.as_dict() for s, r in report]}))
            return
        for number, risk in report:
            self.stdout.write(f"{number.name}: {risk.describe()}")
            for signal in risk.signals:
                self.stdout.write(f"  · {signal.text}")
