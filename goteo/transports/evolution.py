"""Evolution API (a self-hosted WhatsApp-Web gateway): sendText or sendMedia with a typing delay."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext, gettext_noop

from goteo.media_limits import size_problem
from goteo.phones import mask_phone
from goteo.transports.base import (
    ConnectionStatus,
    OutgoingMedia,
    OutgoingMessage,
    SendError,
    Transport,
    unreachable,
)
from goteo.transports.config import ConfigurationError
from goteo.transports.gateway import typing_ms, unknown_state
from goteo.transports.http import json_body, make_client, request, snippet

logger = logging.getLogger(__name__)

# Marked for translation here, translated when a check reads them.
STATES = {
    "open": gettext_noop("conectado"),
    "connecting": gettext_noop("conectando: la sesión aún no está lista"),
    "close": gettext_noop("sesión cerrada: escanee el código QR de la instancia en Evolution"),
    "refused": gettext_noop("WhatsApp rechazó la conexión de la instancia"),
}


# sendMedia's refusals of the file itself, before anything is sent
# (src/api/controllers/sendMessage.controller.ts, ``sendMedia``).
MEDIA_REFUSALS = ("Owned media must be a url or base64", "For base64 the file name must be informed")


def media_body(media: OutgoingMedia, caption: str) -> dict[str, Any]:
    """sendMedia's fields (``mediaMessageSchema`` in src/validate/message.schema.ts): the
    file as goteo's public URL when there is one, else as plain base64."""
    problem = size_problem("evolution", media.kind, media.size)
    if problem:
        raise SendError(SendError.PERMANENT, problem, code="media-size", campaign_wide=True)
    return {
        "mediatype": media.kind,
        "mimetype": media.mime,
        "caption": caption,
        "fileName": media.file_name,
        "media": media.url or base64.b64encode(media.read()).decode("ascii"),
    }


def digits(phone: str) -> str:
    """``+57 300...`` -> ``57300...``: Evolution's ``number`` is digits only."""
    return "".join(ch for ch in phone if ch.isdigit())


def error_messages(body: Any) -> list[Any]:
    """The items of Evolution's ``response.message`` (a list, or a single string)."""
    if not isinstance(body, dict):
        return []
    response = body.get("response")
    message = response.get("message") if isinstance(response, dict) else body.get("message")
    if message is None:
        return []
    return message if isinstance(message, list) else [message]


def classify_response(response: httpx.Response) -> SendError:
    """What a failed sendText means; "Connection Closed" means the session is down."""
    status = response.status_code
    items = error_messages(json_body(response))
    text = "; ".join(str(i) for i in items) or snippet(response) or f"HTTP {status}"
    tag = f"http{status}"
    if any(isinstance(i, dict) and i.get("exists") is False for i in items):
        return SendError(SendError.PERMANENT, gettext("el número no tiene WhatsApp"), code="exists:false")
    if "connection closed" in text.lower():
        return SendError(
            SendError.DISCONNECTED, gettext("la sesión de WhatsApp de Evolution se cerró"), code=tag
        )
    if status in (401, 403):
        return SendError(SendError.DISCONNECTED, gettext("Evolution rechazó la apikey"), code=tag)
    if status == 404:
        return SendError(
            SendError.DISCONNECTED,
            gettext("Evolution no encuentra la instancia: %(detail)s") % {"detail": text},
            code=tag,
        )
    if status == 429:
        return SendError(SendError.RETRY, gettext("Evolution pidió esperar (HTTP 429)"), code=tag)
    if status == 400 and any(mark in text for mark in MEDIA_REFUSALS):
        return SendError(
            SendError.PERMANENT,
            gettext("Evolution no acepta el archivo de la campaña: %(detail)s") % {"detail": text},
            code=tag,
            campaign_wide=True,
        )
    if status == 400 and ("requires property" in text or "is required" in text.lower()):
        return SendError(
            SendError.PERMANENT,
            gettext("Evolution rechazó el mensaje: %(detail)s") % {"detail": text},
            code=tag,
        )
    # A 400 raised inside the send or any 5xx: the message may have gone out.
    return SendError(
        SendError.UNKNOWN,
        gettext("Evolution falló al enviar (HTTP %(status)s): %(detail)s")
        % {"status": status, "detail": text},
        code=tag,
    )


class EvolutionTransport(Transport):
    """Sends through ``POST /message/sendText/<instance>`` (``sendMedia`` with a file) with
    the ``apikey`` header."""

    name = "evolution"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        for key in ("base_url", "api_key", "instance"):
            if not self.config.get(key):
                raise ConfigurationError(gettext("Falta %(key)s para Evolution API.") % {"key": key})
        self.instance = quote(str(self.config["instance"]), safe="")
        self.typing = bool(self.config.get("typing", True))
        self.base_url = str(self.config["base_url"])
        self.headers = {"apikey": str(self.config["api_key"])}
        self.read_timeout = float(self.config.get("read_timeout") or 20)
        self.client = make_client(self.base_url, headers=self.headers, read_timeout=self.read_timeout)

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        body: dict[str, Any] = {"number": digits(message.to)}
        if message.media is not None:
            body |= media_body(message.media, message.text)
        else:
            body |= {"text": message.text, "linkPreview": False}
        if self.typing:
            body["delay"] = typing_ms(message.text)
        return body

    def send(self, message: OutgoingMessage) -> str:
        body = self.payload(message)
        # The call returns only after the typing delay, so the read timeout must allow it.
        timeout = httpx.Timeout(
            connect=5.0,
            read=self.read_timeout + body.get("delay", 0) / 1000,
            write=self.read_timeout,
            pool=5.0,
        )
        endpoint = "sendMedia" if message.media is not None else "sendText"
        response = request(
            self.client,
            "POST",
            f"/message/{endpoint}/{self.instance}",
            json=body,
            timeout=timeout,
        )
        if response.status_code >= 300:
            error = classify_response(response)
            logger.info("Evolution a %s: %s", mask_phone(message.to), error)
            raise error
        data = json_body(response)
        key = data.get("key") if isinstance(data, dict) else None
        provider_id = key.get("id") if isinstance(key, dict) else None
        return str(provider_id or "")

    def check_connection(self) -> ConnectionStatus:
        try:
            response = request(self.client, "GET", f"/instance/connectionState/{self.instance}")
        except SendError as exc:
            return unreachable(gettext("sin conexión con Evolution API: %(reason)s") % {"reason": exc.reason})
        if response.status_code >= 500:
            return unreachable(classify_response(response).reason)
        if response.status_code >= 300:
            return ConnectionStatus(False, classify_response(response).reason)
        data = json_body(response)
        instance = data.get("instance") if isinstance(data, dict) else None
        state = str(instance.get("state") or "") if isinstance(instance, dict) else ""
        detail = gettext(STATES[state]) if state in STATES else unknown_state(state)
        extra: dict[str, Any] = {"state": state}
        if state != "open":
            extra |= self.disconnection()
        return ConnectionStatus(state == "open", detail, extra)

    def disconnection(self) -> dict[str, Any]:
        """Why the session closed for good, when Evolution kept it ({} when unknown).

        Evolution stores ``disconnectionReasonCode`` and ``disconnectionAt`` on the instance
        only when it gives up reconnecting: logged out (401), forbidden (403), 402 or 406
        (whatsapp.baileys.service.ts, ``codesToNotReconnect``); fetchInstances returns them.
        """
        try:
            response = request(
                self.client,
                "GET",
                "/instance/fetchInstances",
                params={"instanceName": self.config["instance"]},
            )
        except SendError:
            return {}
        rows = json_body(response) if response.status_code < 300 else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or row.get("name") != self.config["instance"]:
                continue
            code = row.get("disconnectionReasonCode")
            if isinstance(code, int):
                return {"reason_code": code, "reason_at": str(row.get("disconnectionAt") or "")}
        return {}

    def close(self) -> None:
        self.client.close()
