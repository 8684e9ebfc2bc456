"""Linking a number to Evolution API (v2): create the instance, its QR, a pairing code, logout.

Wire format from EvolutionAPI/evolution-api v2.3.6: ``src/api/routes/instance.router.ts``,
``src/api/controllers/instance.controller.ts`` and ``src/api/guards/instance.guard.ts``.
An instance starts ``close``; ``GET /instance/connect/{instance}`` starts it (``connecting``)
and answers its QR as ``{"pairingCode", "code", "base64", "count"}``, with a pairing code
only when it was given ``?number=`` while the instance was closed; ``open`` is linked.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from django.urls import reverse
from django.utils.translation import gettext

from goteo.conf import env_str
from goteo.transports.http import host_of, json_body
from goteo.transports.pairing import (
    CONNECTED,
    FAILED,
    IDLE,
    STARTING,
    WAITING,
    Pairing,
    PairingClient,
    PairingError,
    account_number,
    digits,
    qr_image,
    unexpected,
)

logger = logging.getLogger(__name__)

INTEGRATION = "WHATSAPP-BAILEYS"  # src/api/types/wa.types.ts, Integration.WHATSAPP_BAILEYS
# The events goteo's webhook reads (docs/providers.md).
WEBHOOK_EVENTS = ["MESSAGES_UPSERT", "MESSAGES_UPDATE", "CONNECTION_UPDATE"]


def webhook_url(config: dict[str, Any]) -> str:
    """goteo's Evolution webhook address, when goteo knows its public address and the secret."""
    public = env_str("GOTEO_PUBLIC_URL").rstrip("/")
    secret = str(config.get("webhook_secret") or "")
    if not public or not secret:
        return ""
    return public + reverse("goteo:webhooks:evolution", kwargs={"secret": secret})


class EvolutionPairing(PairingClient):
    backend = "evolution"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config, {"apikey": str(config["api_key"])})
        self.name = str(config["instance"])
        self.instance = quote(self.name, safe="")

    def state(self) -> str | None:
        """The instance's connection state, or None when the instance does not exist."""
        response = self.call("GET", f"/instance/connectionState/{self.instance}")
        if response.status_code == 404:
            return None
        data = json_body(response)
        instance = data.get("instance") if isinstance(data, dict) else None
        if response.status_code >= 300 or not isinstance(instance, dict):
            raise PairingError(unexpected(host_of(self.client)))
        return str(instance.get("state") or "")

    def look(self) -> Pairing:
        state = self.state()
        if state is None:
            return Pairing(IDLE, gettext("La instancia todavía no existe en el servidor de WhatsApp."))
        if state == "open":
            return self.linked()
        if state == "connecting":
            return self.qr(self.call("GET", f"/instance/connect/{self.instance}"), state)
        if state == "refused":
            return Pairing(
                FAILED,
                gettext("WhatsApp rechazó la conexión o el código QR venció sin escanearse."),
                state,
            )
        return Pairing(IDLE, gettext("El número no está vinculado."), state)

    def connect(self) -> Pairing:
        state = self.state()
        if state is None:
            self.create()
            state = "close"
        if state == "open":
            return self.linked()
        return self.qr(self.call("GET", f"/instance/connect/{self.instance}"), state)

    def request_code(self, phone: str) -> Pairing:
        state = self.state()
        if state is None:
            self.create()
        elif state == "open":
            return self.linked()
        elif state != "close":
            # Evolution only asks WhatsApp for a code when it opens the connection, so a
            # connection already waiting for its QR is closed first.
            self.call("DELETE", f"/instance/logout/{self.instance}")
        response = self.call("GET", f"/instance/connect/{self.instance}", params={"number": digits(phone)})
        pairing = self.qr(response, state or "close")
        if not pairing.code:
            raise PairingError(
                gettext(
                    "El servidor de WhatsApp no entregó un código de vinculación. Espere un minuto y "
                    "vuelva a pedirlo, o escanee el código QR."
                )
            )
        return pairing

    def logout(self) -> Pairing:
        state = self.state()
        if state is None:
            return Pairing(IDLE, gettext("La instancia no existe; no había nada que desconectar."))
        if state not in ("close", ""):
            response = self.call("DELETE", f"/instance/logout/{self.instance}")
            if response.status_code >= 300:
                logger.warning("Evolution logout answered %s", response.status_code)
                raise PairingError(unexpected(host_of(self.client)))
        return Pairing(IDLE, gettext("El número quedó desconectado."), "close")

    def create(self) -> None:
        """Create the instance, closed (the QR comes with the first connect), with goteo's webhook."""
        body: dict[str, Any] = {"instanceName": self.name, "integration": INTEGRATION, "qrcode": False}
        url = webhook_url(self.config)
        if url:
            body["webhook"] = {"url": url, "byEvents": False, "base64": False, "events": WEBHOOK_EVENTS}
        response = self.call("POST", "/instance/create", json=body, expect=(403,))
        if response.status_code == 403:  # "This name ... is already in use": created meanwhile
            return
        if response.status_code >= 300:
            logger.warning("Evolution instance create answered %s", response.status_code)
            raise PairingError(unexpected(host_of(self.client)))
        logger.info("Evolution instance created for pairing (webhook %s)", "set" if url else "not set")

    def qr(self, response: Any, state: str) -> Pairing:
        """The QR (and pairing code) in a connect answer; an ``open`` answer means linked."""
        data = json_body(response)
        if response.status_code >= 300 or not isinstance(data, dict):
            raise PairingError(unexpected(host_of(self.client)))
        instance = data.get("instance")
        if isinstance(instance, dict) and instance.get("state") == "open":
            return self.linked()
        # A closed or connecting instance answers the QR itself; any other state wraps it as
        # {"instance": {...}, "qrcode": {...}} (connectToWhatsapp's last branch).
        nested = data.get("qrcode")
        qr = nested if isinstance(nested, dict) else data
        image = qr_image(qr.get("base64"))
        code = str(qr.get("pairingCode") or "")
        if not image and not code:
            return Pairing(STARTING, gettext("El servidor de WhatsApp está preparando el código QR."), state)
        return Pairing(
            WAITING,
            gettext("Escanee el código QR con el teléfono del número."),
            "connecting",
            qr_image=image,
            code=code,
        )

    def linked(self) -> Pairing:
        """Connected, with the account as Evolution reports it (name and number)."""
        response = self.call("GET", "/instance/fetchInstances", params={"instanceName": self.name})
        data = json_body(response)
        found = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        return Pairing(
            CONNECTED,
            gettext("El número puede enviar."),
            "open",
            account_name=str(found.get("profileName") or ""),
            account_number=account_number(found.get("ownerJid") or found.get("number")),
        )
