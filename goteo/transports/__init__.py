"""Transports by name, and building the one a sender uses."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.utils.translation import gettext

from goteo.transports.base import ConnectionStatus, OutgoingMedia, OutgoingMessage, SendError, Transport
from goteo.transports.config import ConfigurationError, sender_config

if TYPE_CHECKING:
    from goteo.models import Sender

TRANSPORTS: dict[str, str] = {
    "console": "goteo.transports.console.ConsoleTransport",
    "file": "goteo.transports.file.FileTransport",
    "memory": "goteo.transports.memory.MemoryTransport",
    "cloud": "goteo.transports.cloud.CloudTransport",
    "twilio": "goteo.transports.twilio.TwilioTransport",
    "evolution": "goteo.transports.evolution.EvolutionTransport",
    "waha": "goteo.transports.waha.WahaTransport",
}


def transport_class(backend: str) -> type[Transport]:
    """The class registered for ``backend``."""
    try:
        dotted = TRANSPORTS[backend]
    except KeyError:
        valid = ", ".join(sorted(TRANSPORTS))
        raise ConfigurationError(
            gettext("Proveedor de WhatsApp desconocido %(backend)s; use uno de: %(valid)s")
            % {"backend": repr(backend), "valid": valid}
        ) from None
    module_name, class_name = dotted.rsplit(".", 1)
    transport: type[Transport] = getattr(import_module(module_name), class_name)
    return transport


def transport_for(sender: Sender) -> Transport:
    """Build the transport ``sender`` sends with (raises ``ConfigurationError``).

    The default sender reads its provider and credentials from the environment; the
    others from their ``config`` and write-only ``secrets``.
    """
    cls = transport_class(sender.effective_backend)
    transport = cls(sender_config(sender))
    if hasattr(transport, "lid_memory"):  # a gateway that can learn people's hidden ids
        from goteo import inbound

        transport.lid_memory = inbound
    return transport


__all__ = [
    "TRANSPORTS",
    "ConfigurationError",
    "ConnectionStatus",
    "OutgoingMedia",
    "OutgoingMessage",
    "SendError",
    "Transport",
    "transport_class",
    "transport_for",
]
