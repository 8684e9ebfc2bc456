"""Linking a WhatsApp-Web number to its gateway from goteo: the QR, the pairing code, logging out.

Evolution API and WAHA each drive the phone's WhatsApp like WhatsApp Web does, so the
number is linked by scanning a QR code (or typing a pairing code) on the phone. The shop
owner does it from goteo's page; the gateway's own manager is never needed.

Each gateway has a small client (``goteo.transports.evolution_pairing``,
``goteo.transports.waha_pairing``) answering with a ``Pairing``: where the link stands, in
words, with the QR image, the pairing code or the linked account. A gateway that cannot be
reached or refuses the key raises ``PairingError`` with a sentence for the owner; nothing
pretends to be connected.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from django.utils.translation import gettext

from goteo.transports.base import SendError
from goteo.transports.config import ConfigurationError, sender_config
from goteo.transports.http import host_of, make_client, request

if TYPE_CHECKING:
    from goteo.models import Sender

logger = logging.getLogger(__name__)

# Creating a session and asking for a QR take a few seconds on the gateway (Evolution waits
# two seconds for the first QR before answering); a page should not hang longer than this.
READ_TIMEOUT = 15.0

# Where the link stands.
CONNECTED = "connected"  # linked: the number can send
WAITING = "waiting"  # waiting for the QR to be scanned or the code to be typed
STARTING = "starting"  # the gateway is starting the session; the QR comes in a moment
IDLE = "idle"  # nothing running: the owner presses "Conectar"
FAILED = "failed"  # the session failed; "Conectar" restarts it
STATES = (CONNECTED, WAITING, STARTING, IDLE, FAILED)
# States the page keeps refreshing in, until the number is linked.
PENDING = frozenset({WAITING, STARTING})

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DATA_URI = re.compile(r"^data:(?P<type>image/[a-z+.-]+);base64,(?P<data>[A-Za-z0-9+/=\s]+)$")


class PairingError(Exception):
    """The gateway cannot be asked now; the message tells the owner what is wrong."""


@dataclass(frozen=True)
class Pairing:
    """What the gateway says about the number's link, ready for the page."""

    state: str
    detail: str
    gateway_state: str = ""  # the gateway's own word (open, SCAN_QR_CODE...), for the logs
    qr_image: str = ""  # a data: URI of the QR image to scan
    code: str = ""  # a pairing code to type on the phone
    account_name: str = ""
    account_number: str = ""

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    @property
    def pending(self) -> bool:
        return self.state in PENDING


class PairingClient:
    """The calls every gateway answers; each gateway's module fills them in."""

    backend = ""

    def __init__(self, config: dict[str, Any], headers: dict[str, str]) -> None:
        self.config = config
        self.client = make_client(str(config["base_url"]), headers=headers, read_timeout=READ_TIMEOUT)

    def look(self) -> Pairing:
        """Where the link stands, with the current QR while one is waiting; changes nothing."""
        raise NotImplementedError

    def connect(self) -> Pairing:
        """Create the session if it is missing and start it, so a QR comes."""
        raise NotImplementedError

    def request_code(self, phone: str) -> Pairing:
        """A pairing code for ``phone`` (the number being linked), to type on the phone."""
        raise NotImplementedError

    def logout(self) -> Pairing:
        """Unlink the number; the gateway keeps its settings for the next link."""
        raise NotImplementedError

    def call(self, method: str, url: str, *, expect: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """One request; an unreachable gateway or a refused key is a ``PairingError``.

        Statuses in ``expect`` are returned to the caller, which knows what they mean there.
        """
        try:
            response = request(self.client, method, url, **kwargs)
        except SendError as exc:
            logger.warning("%s unreachable for pairing: %s", self.backend, exc)
            raise PairingError(unreachable(host_of(self.client))) from exc
        if response.status_code in expect:
            return response
        if response.status_code in (401, 403):
            raise PairingError(
                gettext(
                    "El servidor de WhatsApp en %(host)s rechazó la clave de acceso. Revise la "
                    "clave guardada en la configuración del número."
                )
                % {"host": host_of(self.client)}
            )
        if response.status_code >= 500:
            logger.warning(
                "%s answered %s to %s %s", self.backend, response.status_code, method, url.split("?")[0]
            )
            raise PairingError(failed(host_of(self.client)))
        return response

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PairingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unreachable(host: str) -> str:
    return gettext(
        "No se puede contactar el servidor de WhatsApp en %(host)s. Revise que esté encendido y "
        "que la dirección sea la correcta; mientras tanto el número no está conectado."
    ) % {"host": host}


def failed(host: str) -> str:
    return gettext(
        "El servidor de WhatsApp en %(host)s respondió con un error. Vuelva a intentarlo en unos "
        "minutos; mientras tanto el número no está conectado."
    ) % {"host": host}


def unexpected(host: str) -> str:
    return gettext(
        "El servidor de WhatsApp en %(host)s dio una respuesta que goteo no entiende; el número "
        "no se da por conectado."
    ) % {"host": host}


def qr_image(value: Any, mimetype: str = "") -> str:
    """A safe ``data:`` URI for an image the gateway sent, or "" when it is not one.

    Evolution sends a whole data URI; WAHA sends the base64 and its type separately.
    """
    if not isinstance(value, str) or not value:
        return ""
    if not value.startswith("data:"):
        value = f"data:{mimetype or 'image/png'};base64,{value}"
    match = DATA_URI.match(value)
    if match is None or match["type"] not in IMAGE_TYPES:
        return ""
    data = "".join(match["data"].split())
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return ""
    return f"data:{match['type']};base64,{data}"


def digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def account_number(jid: Any) -> str:
    """``573001234567@s.whatsapp.net`` (or ``@c.us``) -> ``+573001234567``."""
    if not isinstance(jid, str) or not jid:
        return ""
    number = digits(jid.split("@", 1)[0].split(":", 1)[0])
    return f"+{number}" if number else ""


def pairing_for(sender: Sender) -> PairingClient:
    """The pairing client for ``sender``'s gateway (raises ``ConfigurationError``)."""
    from goteo.transports.evolution_pairing import EvolutionPairing
    from goteo.transports.waha_pairing import WahaPairing

    backend = sender.effective_backend
    config = sender_config(sender)
    if backend == "evolution":
        return EvolutionPairing(config)
    if backend == "waha":
        return WahaPairing(config)
    raise ConfigurationError(
        gettext("El número «%(name)s» no usa una pasarela de WhatsApp Web; no se vincula con un código QR.")
        % {"name": sender.name}
    )
