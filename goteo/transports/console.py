"""The console transport: prints each message instead of sending it (the default).

It is goteo's test mode: what it prints is recorded as simulated, never as sent.
"""

from __future__ import annotations

import sys
import uuid

from django.utils.translation import gettext, gettext_noop

from goteo.media_limits import megabytes
from goteo.phones import mask_phone
from goteo.transports.base import ConnectionStatus, OutgoingMedia, OutgoingMessage, Transport

KIND_WORDS = {
    "image": gettext_noop("imagen"),
    "document": gettext_noop("documento"),
    "video": gettext_noop("video"),
}


def media_line(media: OutgoingMedia) -> str:
    """ "imagen: monturas.jpg (image/jpeg, 240 KB)": what goes above the caption."""
    return f"{gettext(KIND_WORDS[media.kind])}: {media.file_name} ({media.mime}, {megabytes(media.size)})"


class ConsoleTransport(Transport):
    """Writes each message to standard output; nothing leaves the machine."""

    name = "console"
    simulates = True

    def send(self, message: OutgoingMessage) -> str:
        stream = self.config.get("stream") or sys.stdout
        attached = ""
        if message.media is not None:
            attached = f"[{media_line(message.media)}]\n"
        stream.write(f"--- WhatsApp a {mask_phone(message.to)} ---\n{attached}{message.text}\n\n")
        stream.flush()
        return f"console-{uuid.uuid4().hex[:12]}"

    def delivered_text(self) -> str:
        return gettext("simulado (modo de prueba: no salió por WhatsApp)")

    def check_connection(self) -> ConnectionStatus:
        # "Connected" so a simulation can run; goteo.simulation marks the number as in test mode.
        return ConnectionStatus(True, gettext("los mensajes solo se imprimen; no salen por WhatsApp"))
