"""WAHA (a self-hosted WhatsApp-Web gateway): sendText to ``<digits>@c.us``, typing around it."""

from __future__ import annotations

import base64
import logging
import time
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
STATUSES = {
    "WORKING": gettext_noop("conectado"),
    "STARTING": gettext_noop("la sesión está iniciando"),
    "SCAN_QR_CODE": gettext_noop("la sesión espera que escanee el código QR en WAHA"),
    "PASSKEY_REQUIRED": gettext_noop("la sesión pide una llave de acceso en el teléfono"),
    "PASSKEY_CONFIRMATION_REQUIRED": gettext_noop("la sesión espera confirmar la llave de acceso"),
    "STOPPED": gettext_noop("la sesión está detenida: iníciela en WAHA"),
    "FAILED": gettext_noop("la sesión falló: reiníciela o vuelva a vincular el teléfono"),
}
SESSION_DOWN = frozenset({"http401", "http403", "http422"})
# WhatsApp's "reach-out time-lock" for contacts that never wrote to the number.
TIMELOCK_MARK = "error 463"
LOOKUP_TIMEOUT = httpx.Timeout(5.0)  # a lids lookup runs inside a webhook or after a send
# WAHA Core answers 422 "... is available only in Plus version" to sendImage, sendFile and
# sendVideo (src/core/exceptions.ts, AvailableInPlusVersion): files need WAHA Plus.
PLUS_ONLY = "available only in Plus"
# The endpoint per kind of file (src/api/chatting.controller.ts).
MEDIA_ENDPOINTS = {"image": "/api/sendImage", "document": "/api/sendFile", "video": "/api/sendVideo"}


def media_request(media: OutgoingMedia) -> tuple[str, dict[str, Any]]:
    """The endpoint and ``file`` for a campaign's file (src/structures/files.dto.ts:
    RemoteFile ``{mimetype, filename, url}`` or BinaryFile ``{mimetype, filename, data}``)."""
    problem = size_problem("waha", media.kind, media.size)
    if problem:
        raise SendError(SendError.PERMANENT, problem, code="media-size", campaign_wide=True)
    found: dict[str, Any] = {"mimetype": media.mime, "filename": media.file_name}
    if media.url:
        found["url"] = media.url
    else:
        found["data"] = base64.b64encode(media.read()).decode("ascii")
    return MEDIA_ENDPOINTS[media.kind], found


def chat_id(phone: str) -> str:
    """``+5511...`` -> ``5511...@c.us``, WAHA's id of a person's chat."""
    return "".join(ch for ch in phone if ch.isdigit()) + "@c.us"


def error_text(response: httpx.Response) -> str:
    body = json_body(response)
    if isinstance(body, dict):
        exception = body.get("exception")
        for value in (
            body.get("error"),
            exception.get("message") if isinstance(exception, dict) else None,
            body.get("message"),
        ):
            if value:
                return str(value)
    return snippet(response) or f"HTTP {response.status_code}"


def classify_response(response: httpx.Response) -> SendError:
    """What a failed WAHA call means; 422 is a session that is not WORKING."""
    status = response.status_code
    text = error_text(response)
    tag = f"http{status}"
    d = {"status": status, "detail": text}
    if status == 422 and PLUS_ONLY in response.text:
        return SendError(
            SendError.PERMANENT,
            gettext("este WAHA no envía archivos: enviar imágenes, PDF o videos necesita WAHA Plus"),
            code="waha-plus",
            campaign_wide=True,
        )
    if status == 422:
        return SendError(
            SendError.DISCONNECTED, gettext("la sesión de WAHA no está lista: %(detail)s") % d, code=tag
        )
    if status in (401, 403):
        return SendError(SendError.DISCONNECTED, gettext("WAHA rechazó la X-Api-Key"), code=tag)
    if status == 404:
        return SendError(
            SendError.DISCONNECTED, gettext("WAHA no encuentra la sesión: %(detail)s") % d, code=tag
        )
    if "connection closed" in text.lower():
        return SendError(SendError.DISCONNECTED, gettext("la sesión de WhatsApp de WAHA se cerró"), code=tag)
    if TIMELOCK_MARK in text:
        return SendError(
            SendError.RETRY,
            gettext("WhatsApp no deja escribir aún a este contacto (error 463); se reintenta mañana"),
            code="463",
            retry_after=24 * 3600,
        )
    if status == 429:
        return SendError(SendError.RETRY, gettext("WAHA pidió esperar (HTTP 429)"), code=tag)
    if status >= 500:
        return SendError(
            SendError.UNKNOWN, gettext("WAHA falló al enviar (HTTP %(status)s): %(detail)s") % d, code=tag
        )
    return SendError(
        SendError.PERMANENT, gettext("WAHA rechazó el mensaje (HTTP %(status)s): %(detail)s") % d, code=tag
    )


def not_sent(error: SendError) -> SendError:
    """Before sendText nothing has gone out, so an unknown outcome is only a retry."""
    if error.kind == SendError.UNKNOWN:
        return SendError(SendError.RETRY, error.reason, code=error.code)
    return error


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def message_id(data: Any) -> str:
    """The id in WAHA's engine-specific answer; an empty body is allowed."""
    if not isinstance(data, dict):
        return ""
    inner = as_dict(data.get("_data"))
    for candidate in (data.get("id"), inner.get("id"), data.get("key")):
        if isinstance(candidate, dict):
            value = candidate.get("_serialized") or candidate.get("id")
            if value:
                return str(value)
        elif candidate:
            return str(candidate)
    return ""


class WahaTransport(Transport):
    """Sends through ``POST /api/sendText`` with ``X-Api-Key`` when the server asks for one."""

    name = "waha"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        if not self.config.get("base_url"):
            raise ConfigurationError(gettext("Falta %(key)s para WAHA.") % {"key": "base_url"})
        self.session = str(self.config.get("session") or "default")
        self.typing = bool(self.config.get("typing", True))
        self.check_exists = bool(self.config.get("check_exists", True))
        self.learn_lids = bool(self.config.get("learn_lids", True))
        self.lid_memory: Any = None  # where learned hidden ids are kept (goteo.inbound)
        headers = {"X-Api-Key": str(self.config["api_key"])} if self.config.get("api_key") else {}
        self.client = make_client(
            str(self.config["base_url"]),
            headers=headers,
            read_timeout=float(self.config.get("read_timeout") or 20),
        )
        self.sleep = time.sleep

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request made before sendText: any failure means nothing was sent."""
        try:
            response = request(self.client, method, url, **kwargs)
        except SendError as exc:
            raise not_sent(exc) from exc
        if response.status_code >= 300:
            raise not_sent(classify_response(response))
        return response

    def recipient(self, message: OutgoingMessage) -> str:
        """The chat id to write to, after checking the number is on WhatsApp."""
        default = chat_id(message.to)
        if not self.check_exists:
            return default
        phone = default.removesuffix("@c.us")
        data = json_body(
            self.call(
                "GET",
                "/api/contacts/check-exists",
                params={"phone": phone, "session": self.session},
            )
        )
        if isinstance(data, dict) and data.get("numberExists") is False:
            raise SendError(SendError.PERMANENT, gettext("el número no tiene WhatsApp"), code="exists:false")
        found = str(data.get("chatId") or "") if isinstance(data, dict) else ""
        return found if found.endswith("@c.us") else default

    def send(self, message: OutgoingMessage) -> str:
        body: dict[str, Any] = {"session": self.session}
        endpoint = "/api/sendText"
        if message.media is not None:  # a file refused for the campaign stops here, before typing
            endpoint, body["file"] = media_request(message.media)
            body["caption"] = message.text
        else:
            body |= {"text": message.text, "linkPreview": False}
        chat = self.recipient(message)
        if self.typing:
            self.show_typing(chat, typing_ms(message.text))
        body["chatId"] = chat
        response = request(self.client, "POST", endpoint, json=body)
        if response.status_code >= 300:
            error = classify_response(response)
            logger.info("WAHA a %s: %s", mask_phone(message.to), error)
            raise error
        if self.learn_lids:
            self.learn_lid(message.to)
        return message_id(json_body(response))

    # --- hidden ids ("…@lid"): WAHA's lids API, GET /api/{session}/lids/{lid} and /pn/{phone}
    def lids_path(self, tail: str) -> str:
        return f"/api/{quote(self.session, safe='')}/lids/{tail}"

    def lids_call(self, path: str) -> dict[str, Any]:
        """A lids lookup's answer, ``{"lid", "pn"}``; {} when WAHA cannot tell."""
        try:
            response = request(self.client, "GET", path, timeout=LOOKUP_TIMEOUT)
        except SendError as exc:
            logger.info("WAHA: consulta de id oculto sin respuesta: %s", exc)
            return {}
        if response.status_code >= 300:
            logger.info("WAHA: consulta de id oculto rechazada (HTTP %s)", response.status_code)
            return {}
        return as_dict(json_body(response))

    def phone_for_lid(self, lid: str) -> str:
        """The phone chat id (``…@c.us``) behind a hidden id, or "" when WAHA does not know it."""
        user = lid.split("@")[0]
        return str(self.lids_call(self.lids_path(quote(user, safe=""))).get("pn") or "")

    def lid_for_phone(self, phone: str) -> str:
        """The hidden id WhatsApp uses for ``phone``, or ""."""
        digits = "".join(ch for ch in phone if ch.isdigit())
        return str(self.lids_call(self.lids_path(f"pn/{digits}")).get("lid") or "")

    def learn_lid(self, phone: str) -> None:
        """After a send, remember the person's hidden id: a reply may come only with it.

        Only with a ``lid_memory`` (goteo.inbound, which ``transport_for`` gives), and once
        per phone; a lookup that fails changes nothing about the send.
        """
        memory = self.lid_memory
        if memory is None:
            return
        from django.db import DatabaseError
        from django.utils import timezone

        try:
            if memory.knows_lid_of(phone):
                return
            lid = self.lid_for_phone(phone)
            if lid:
                memory.remember_lid(lid, phone, "waha:envio", timezone.now())
        except DatabaseError as exc:
            logger.warning("WAHA: no se guardó el id oculto de %s: %s", mask_phone(phone), exc)

    def show_typing(self, chat: str, milliseconds: int) -> None:
        """Show "typing..." for ``milliseconds``, then stop, as a person would.

        Typing is a courtesy: only a session that is down (or a server that cannot be
        reached) stops the send; an engine without typing support does not.
        """
        body = {"session": self.session, "chatId": chat}
        try:
            self.call("POST", "/api/startTyping", json=body)
        except SendError as exc:
            if exc.kind in (SendError.RETRY, SendError.BRAKE) or exc.code in SESSION_DOWN:
                raise
            logger.info("WAHA: no se pudo mostrar que se escribe: %s", exc)
            return
        self.sleep(milliseconds / 1000)
        try:
            self.call("POST", "/api/stopTyping", json=body)
        except SendError as exc:
            if exc.kind == SendError.BRAKE or exc.code in SESSION_DOWN:
                raise
            logger.info("WAHA: no se pudo dejar de escribir: %s", exc)

    def check_connection(self) -> ConnectionStatus:
        try:
            response = request(self.client, "GET", f"/api/sessions/{quote(self.session, safe='')}")
        except SendError as exc:
            return unreachable(gettext("sin conexión con WAHA: %(reason)s") % {"reason": exc.reason})
        if response.status_code >= 500:
            return unreachable(classify_response(response).reason)
        if response.status_code >= 300:
            return ConnectionStatus(False, classify_response(response).reason)
        data = json_body(response)
        status = str(data.get("status") or "") if isinstance(data, dict) else ""
        detail = gettext(STATUSES[status]) if status in STATUSES else unknown_state(status)
        return ConnectionStatus(status == "WORKING", detail, {"status": status})

    def close(self) -> None:
        self.client.close()
