"""The console transport: prints each message instead of sending it (the default)."""

from __future__ import annotations

import sys
import uuid

from goteo.phones import mask_phone
from goteo.transports.base import OutgoingMessage, Transport


class ConsoleTransport(Transport):
    """Writes each message to standard output; nothing leaves the machine."""

    name = "console"

    def send(self, message: OutgoingMessage) -> str:
        stream = self.config.get("stream") or sys.stdout
        stream.write(f"--- WhatsApp a {mask_phone(message.to)} ---\n{message.text}\n\n")
        stream.flush()
        return f"console-{uuid.uuid4().hex[:12]}"
