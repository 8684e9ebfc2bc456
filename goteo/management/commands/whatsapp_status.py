"""``goteo whatsapp_status [--json]``: whether each WhatsApp number can send now, and why not."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from goteo import health
from goteo.management.base import GoteoCommand
from goteo.management.output import mark_and_detail, to_json
from goteo.models import Sender
from goteo.models.senders import DEFAULT_SENDER_NAME
from goteo.simulation import connection_mark, sender_simulates


class Command(GoteoCommand):
    help = (
        "Muestra si cada número de WhatsApp puede enviar ahora y por qué no. "
        "Termina con código 0 solo si todos los números activos están conectados."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="imprime el resultado en JSON")
        parser.add_argument(
            "--fresh",
            action="store_true",
            help="consulta al proveedor aunque haya una respuesta reciente",
        )

    def handle(self, *args: Any, json: bool = False, fresh: bool = False, **options: Any) -> None:
        now = timezone.now()
        rows, marks = [], []
        senders = active_senders()
        for sender in senders:
            status = health.sender_status(sender, now, use_cache=not fresh)
            brake = health.brake_note(sender, now)
            detail = "; ".join(part for part in (status.detail, brake) if part)
            # A braked number is up but may not send now: for a script it is not ready.
            connected = status.connected and not brake
            rows.append(
                {
                    "name": sender.name,
                    "backend": sender.effective_backend,
                    "connected": connected,
                    "unreachable": status.unreachable,
                    "simulation": sender_simulates(sender),
                    "detail": detail,
                }
            )
            marks.append(status_mark(sender, connected, status.unreachable, bool(brake)))
        if json:
            self.stdout.write(to_json({"senders": rows}))
        else:
            for sender, row, mark in zip(senders, rows, marks, strict=True):
                self.stdout.write(
                    f"{row['name']} ({sender.backend_label}): {mark_and_detail(mark, str(row['detail']))}"
                )
        if not all(row["connected"] for row in rows):
            sys.exit(1)


def status_mark(sender: Sender, connected: bool, unreachable: bool, braked: bool) -> str:
    if braked:
        return "⏸ frenado, no envía ahora"
    if unreachable and not connected:
        return "❔ sin respuesta del proveedor"
    return connection_mark(sender, connected)


def active_senders() -> list[Sender]:
    """The active senders; the default one from the environment when none is stored yet."""
    senders = list(Sender.objects.filter(is_active=True))
    if (
        not any(s.from_environment for s in senders)
        and not Sender.objects.filter(name=DEFAULT_SENDER_NAME).exists()
    ):
        senders.insert(0, Sender(name=DEFAULT_SENDER_NAME, from_environment=True))
    return senders
