"""Linking a number to WAHA: create and start the session, its QR, a pairing code, logout.

Wire format from WAHA's docs (devlikeapro/waha-docs ``content/docs/how-to/sessions/index.md``)
and source (devlikeapro/waha ``src/api/sessions.controller.ts``, ``src/api/auth.controller.ts``,
``src/nestjs/BufferResponseInterceptor.ts``). ``GET /api/{session}/auth/qr`` with
``Accept: application/json`` answers ``{"mimetype": "image/png", "data": <base64>}``, and only
while the session is ``SCAN_QR_CODE`` (422 otherwise). Logging out restarts a running session
from scratch, so goteo stops it afterwards: a disconnected number shows no new QR by itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext

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


class WahaPairing(PairingClient):
    backend = "waha"

    def __init__(self, config: dict[str, Any]) -> None:
        key = str(config.get("api_key") or "")
        super().__init__(config, {"X-Api-Key": key} if key else {})
        self.name = str(config.get("session") or "default")
        self.session = quote(self.name, safe="")

    def info(self) -> dict[str, Any] | None:
        """The session as WAHA reports it, or None when it does not exist."""
        response = self.call("GET", f"/api/sessions/{self.session}", expect=(404,))
        if response.status_code == 404:
            return None
        data = json_body(response)
        if response.status_code >= 300 or not isinstance(data, dict):
            raise PairingError(unexpected(host_of(self.client)))
        return data

    def look(self) -> Pairing:
        return self.describe(self.info())

    def connect(self) -> Pairing:
        info = self.info()
        status = str(info.get("status") or "") if info else ""
        if info is None:
            self.call(
                "POST", "/api/sessions", json={"name": self.name, "start": True}, expect=(422,)
            )  # 422: it already exists, created meanwhile
        elif status == "STOPPED":
            self.call("POST", f"/api/sessions/{self.session}/start")
        elif status == "FAILED":
            # WAHA's advice for FAILED: restart; if that fails too, log out and start again.
            self.call("POST", f"/api/sessions/{self.session}/restart")
        return self.look()

    def request_code(self, phone: str) -> Pairing:
        pairing = self.connect()
        if pairing.connected:
            return pairing
        response = self.call(
            "POST",
            f"/api/{self.session}/auth/request-code",
            json={"phoneNumber": digits(phone)},
            expect=(400, 404, 422),
        )
        data = json_body(response)
        code = str(data.get("code") or "") if isinstance(data, dict) else ""
        if response.status_code >= 300 or not code:
            raise PairingError(
                gettext(
                    "El servidor de WhatsApp no entregó un código de vinculación; no todos los "
                    "servidores lo ofrecen. Escanee el código QR."
                )
            )
        return Pairing(
            WAITING,
            gettext("Escriba el código en el teléfono del número."),
            pairing.gateway_state,
            qr_image=pairing.qr_image,
            code=code,
        )

    def logout(self) -> Pairing:
        response = self.call("POST", f"/api/sessions/{self.session}/logout", expect=(404,))
        if response.status_code == 404:
            return Pairing(IDLE, gettext("La sesión no existe; no había nada que desconectar."))
        self.call("POST", f"/api/sessions/{self.session}/stop")
        return Pairing(IDLE, gettext("El número quedó desconectado."), "STOPPED")

    def describe(self, info: dict[str, Any] | None) -> Pairing:
        if info is None:
            return Pairing(IDLE, gettext("La sesión todavía no existe en el servidor de WhatsApp."))
        status = str(info.get("status") or "")
        if status == "WORKING":
            found = info.get("me")
            me: dict[str, Any] = found if isinstance(found, dict) else {}
            return Pairing(
                CONNECTED,
                gettext("El número puede enviar."),
                status,
                account_name=str(me.get("pushName") or ""),
                account_number=account_number(me.get("id")),
            )
        if status == "SCAN_QR_CODE":
            return self.qr(status)
        if status == "STARTING":
            return Pairing(STARTING, gettext("El servidor de WhatsApp está iniciando la sesión."), status)
        if status in ("PASSKEY_REQUIRED", "PASSKEY_CONFIRMATION_REQUIRED"):
            return Pairing(WAITING, gettext("WhatsApp pide confirmar la vinculación en el teléfono."), status)
        if status == "FAILED":
            return Pairing(
                FAILED,
                gettext("La sesión falló: puede que el teléfono la haya desvinculado. Conéctela de nuevo."),
                status,
            )
        if status == "STOPPED":
            return Pairing(IDLE, gettext("La sesión está detenida."), status)
        return Pairing(
            FAILED,
            gettext("El servidor de WhatsApp informa un estado que goteo no conoce (%(status)s).")
            % {"status": status or "—"},
            status,
        )

    def qr(self, status: str) -> Pairing:
        """The QR image while the session waits for it; a QR that just went away is "starting"."""
        response = self.call(
            "GET",
            f"/api/{self.session}/auth/qr",
            params={"format": "image"},
            headers={"Accept": "application/json"},
            expect=(422,),
        )
        data = json_body(response)
        image = qr_image(data.get("data"), str(data.get("mimetype") or "")) if isinstance(data, dict) else ""
        if response.status_code >= 300 or not image:
            return Pairing(STARTING, gettext("El servidor de WhatsApp está preparando el código QR."), status)
        return Pairing(
            WAITING, gettext("Escanee el código QR con el teléfono del número."), status, qr_image=image
        )
