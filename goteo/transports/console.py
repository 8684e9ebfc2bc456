"""The console transport: prints each message instead of sending it (the default).

It is goteo's test mode: what it prints is recorded as simulated, never as sent.
"""

from __future__ import annotations

import sys
import uuid

from django.utils.translation import gettext

from goteo.phones import mask_phone
from goteo.transports.base import ConnectionStatus, OutgoingMessage, Transport


class ConsoleTransport(Transport):
    """Writes each message to standard output; nothing leaves the machine."""

    name = "console"
    simulates = True

    def send(self, message: OutgoingMessage) -> str:
        stream = self.config.get("stream") or sys.stdout
        stream.write(f"--- WhatsApp a {mask_phone(message.to)} ---\n{message.text}\n\n")
        stream.flush()
        return f"console-{uuid.uuid4().hex[:12]}"

    def delivered_text(self) -> str:
        return gettext("simulado (modo de prueba: no salió por WhatsApp)")

    def check_connection(self) -> ConnectionStatus:
        # "Connected" so a simulation can run; goteo.simulation marks the number as in test mode.
        return ConnectionStatus(True, gettext("los mensajes solo se imprimen; no salen por WhatsApp"))
