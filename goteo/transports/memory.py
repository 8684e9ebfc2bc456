"""The in-memory transport, for tests and the demo: collects messages in a list."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from django.utils.translation import gettext

from goteo.transports.base import ConnectionStatus, OutgoingMessage, SendError, Transport


class MemoryTransport(Transport):
    """Keeps every sent message in ``MemoryTransport.outbox`` (with its ``media``, if any).

    Tests steer it through class attributes: ``connected``, and ``script``, a function
    called with each message that may raise ``SendError`` to simulate a provider fault.
    """

    name = "memory"
    outbox: ClassVar[list[OutgoingMessage]] = []
    connected: ClassVar[bool] = True
    script: ClassVar[Callable[[OutgoingMessage], None] | None] = None

    @classmethod
    def reset(cls) -> None:
        cls.outbox = []
        cls.connected = True
        cls.script = None

    def send(self, message: OutgoingMessage) -> str:
        if not type(self).connected:
            raise SendError(SendError.DISCONNECTED, gettext("WhatsApp desconectado"))
        script = type(self).script
        if script is not None:
            script(message)
        type(self).outbox.append(message)
        return f"mem-{len(type(self).outbox)}"

    def check_connection(self) -> ConnectionStatus:
        if type(self).connected:
            return ConnectionStatus(True, gettext("conectado (memoria)"))
        return ConnectionStatus(False, gettext("WhatsApp desconectado"))
