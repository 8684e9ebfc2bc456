"""Twilio's WhatsApp channel through the Messages resource (form-encoded, Basic auth)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from django.utils.translation import gettext

from goteo.conf import env_str
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
from goteo.transports.http import json_body, make_client, request, snippet

logger = logging.getLogger(__name__)

DAY = 24 * 3600

# Twilio's error catalogue (twilio.com/docs/api/errors/<code>) and its WhatsApp code mapping.
AUTH_CODES = frozenset({20003, 20401, 20404, 63007, 21606, 21608, 21212})
RECIPIENT_CODES = frozenset({21211, 21614, 63003, 63024, 63016, 63032})
# 21610: the person sent STOP; 63014: "Channel message blocked by user action", the person
# blocked the business on WhatsApp or withdrew consent.
OPT_OUT_CODES = frozenset({21610, 63014})
TEMPLATE_CODES = frozenset({21656, 63027, 63028, 63005})
THROTTLE_CODES = frozenset({20429, 63017})
# 63038: the account's daily limit; 63049: Meta's per-person marketing limit (its 131049).
SLOW_RETRY_CODES = frozenset({63038, 63049})
# 63018 "Rate limit exceeded for Channel" is a limit on the whole number, not on one message:
# Twilio's WhatsApp error-code mapping (twilio.com/docs/whatsapp/api/error-code-mapping) sends
# WhatsApp's 429 (rate limit), 471 (spam rate limit, the Cloud API's 131048) and 1015 to it, and
# twilio.com/docs/api/errors/63018 says to wait until 24 hours have passed. Sending on to
# everyone else would only feed the spam signal, so the number stops for 24 hours.
NUMBER_LIMIT_CODES = frozenset({63018})
# 63051: "WhatsApp Business Account is Locked" (Meta's 131031): Meta stopped the account.
BRAKE_CODES = frozenset({63051})
# The campaign's file, refused for everyone: 11751 "Media exceeds messaging provider size
# limit", 12300 "Invalid Content-Type" (the answer at MediaUrl did not match the file) and
# 63019 "Media failed to download" (twilio.com/docs/api/errors/<code>).
MEDIA_CODES = frozenset({11751, 12300, 63019})


def whatsapp_address(phone: str) -> str:
    """``+5511...`` -> ``whatsapp:+5511...`` (left alone when already prefixed)."""
    phone = phone.strip()
    return phone if phone.startswith("whatsapp:") else f"whatsapp:{phone}"


def classify_error(status: int, code: int | None, detail: str) -> SendError:
    """What a Twilio error means for this message and for the number."""
    tag = str(code) if code is not None else f"http{status}"
    d = {"detail": detail}
    if status >= 500:
        return SendError(
            SendError.UNKNOWN,
            gettext("Twilio respondió HTTP %(status)s después de recibir el mensaje") % {"status": status},
            code=tag,
        )
    if code in AUTH_CODES or (code is None and status in (401, 403)):
        return SendError(
            SendError.DISCONNECTED,
            gettext("Twilio rechazó la cuenta o el remitente: %(detail)s") % d,
            code=tag,
        )
    if code in MEDIA_CODES:
        return SendError(
            SendError.PERMANENT,
            gettext("Twilio no acepta el archivo de la campaña: %(detail)s") % d,
            code=tag,
            campaign_wide=True,
        )
    if code in OPT_OUT_CODES:
        return SendError(
            SendError.PERMANENT,
            gettext("la persona se dio de baja: %(detail)s") % d,
            code=tag,
            opted_out=True,
        )
    if code in RECIPIENT_CODES:
        return SendError(
            SendError.PERMANENT, gettext("no se puede entregar a este número: %(detail)s") % d, code=tag
        )
    if code in BRAKE_CODES:
        return SendError(
            SendError.BRAKE,
            gettext("Meta bloqueó la cuenta de WhatsApp (%(detail)s); revise WhatsApp Manager") % d,
            code=tag,
        )
    if code in NUMBER_LIMIT_CODES:
        return SendError(
            SendError.BRAKE,
            gettext(
                "WhatsApp limitó el número por enviar demasiados mensajes (puede verlo como spam); "
                "no se envía nada durante 24 horas: %(detail)s"
            )
            % d,
            code=tag,
            retry_after=DAY,
        )
    if code in TEMPLATE_CODES:
        return SendError(SendError.BRAKE, gettext("Twilio rechazó la plantilla: %(detail)s") % d, code=tag)
    if code in SLOW_RETRY_CODES:
        return SendError(
            SendError.RETRY,
            gettext("límite diario de Twilio o WhatsApp; se reintenta en 24 horas: %(detail)s") % d,
            code=tag,
            retry_after=DAY,
        )
    if code in THROTTLE_CODES or status == 429:
        return SendError(
            SendError.RETRY,
            gettext("límite de velocidad de Twilio: %(detail)s") % d,
            code=tag,
            retry_after=300,
        )
    return SendError(SendError.RETRY, gettext("error de Twilio: %(detail)s") % d, code=tag)


def classify_response(response: httpx.Response) -> SendError:
    body = json_body(response)
    code = body.get("code") if isinstance(body, dict) else None
    detail = (
        str(body.get("message"))
        if isinstance(body, dict) and body.get("message")
        else (snippet(response) or f"HTTP {response.status_code}")
    )
    return classify_error(response.status_code, code if isinstance(code, int) else None, detail)


def content_sid(template: dict[str, Any]) -> str:
    """The ContentSid (``HX...``) of an approved template, if the campaign has one."""
    sid = str(template.get("content_sid") or template.get("name") or "")
    return sid if sid.startswith("HX") else ""


def public_url(config: dict[str, Any]) -> str:
    """The address Twilio reaches goteo at, for status callbacks (GOTEO_PUBLIC_URL)."""
    return str(config.get("public_url") or env_str("GOTEO_PUBLIC_URL")).rstrip("/")


def status_callback_url(config: dict[str, Any], message_id: str) -> str:
    """The per-message StatusCallback URL, or "" when goteo's public address is unknown."""
    base = public_url(config)
    if not base or not message_id:
        return ""
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("goteo:webhooks:twilio_status", args=[message_id])
    except NoReverseMatch:
        return ""
    return base + path


def media_url(media: OutgoingMedia) -> str:
    """The address Twilio downloads the campaign's file from (``MediaUrl``).

    Twilio only takes files by URL, so without GOTEO_PUBLIC_URL, or over Twilio's limit,
    the campaign cannot be sent: nothing goes out and it pauses with the reason. Twilio
    shows no caption under a document ("Guidance on WhatsApp Media Messages"): the Body
    still goes with it.
    """
    problem = size_problem("twilio", media.kind, media.size)
    if problem:
        raise SendError(SendError.PERMANENT, problem, code="media-size", campaign_wide=True)
    if not media.url:
        raise SendError(
            SendError.PERMANENT,
            gettext(
                "Twilio descarga el archivo de la campaña desde goteo: defina GOTEO_PUBLIC_URL "
                "con la dirección pública de goteo"
            ),
            code="public-url",
            campaign_wide=True,
        )
    return media.url


class TwilioTransport(Transport):
    """Sends through ``POST /2010-04-01/Accounts/<sid>/Messages.json``."""

    name = "twilio"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        for key in ("account_sid", "auth_token", "from"):
            if not self.config.get(key):
                raise ConfigurationError(gettext("Falta %(key)s para Twilio.") % {"key": key})
        self.account_sid = str(self.config["account_sid"])
        sender = str(self.config["from"])
        self.from_field = (
            ("MessagingServiceSid", sender) if sender.startswith("MG") else ("From", whatsapp_address(sender))
        )
        self.client = make_client(
            str(self.config.get("base_url") or "https://api.twilio.com"),
            auth=(self.account_sid, str(self.config["auth_token"])),
            read_timeout=float(self.config.get("read_timeout") or 20),
        )

    def form(self, message: OutgoingMessage) -> dict[str, str]:
        """The form fields for ``message``: ContentSid and variables, or Body."""
        fields = {"To": whatsapp_address(message.to), self.from_field[0]: self.from_field[1]}
        template = message.provider_template or {}
        sid = content_sid(template)
        if sid:
            params = list(template.get("params") or [])
            missing = [p for p in params if p not in message.variables]
            if missing:
                raise SendError(
                    SendError.BRAKE,
                    gettext("la plantilla %(template)s pide %(missing)s, que no existe")
                    % {"template": sid, "missing": ", ".join(missing)},
                )
            fields["ContentSid"] = sid
            if params:
                variables = {str(i): message.variables[p] for i, p in enumerate(params, start=1)}
                fields["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
        else:
            fields["Body"] = message.text
            if message.media is not None:
                fields["MediaUrl"] = media_url(message.media)
        callback = status_callback_url(self.config, message.message_id)
        if callback:
            fields["StatusCallback"] = callback
        return fields

    def send(self, message: OutgoingMessage) -> str:
        url = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        response = request(self.client, "POST", url, data=self.form(message))
        if response.status_code >= 300:
            error = classify_response(response)
            logger.info("Twilio a %s: %s", mask_phone(message.to), error)
            raise error
        data = json_body(response)
        sid = data.get("sid") if isinstance(data, dict) else None
        if not sid:
            raise SendError(
                SendError.UNKNOWN,
                gettext("Twilio aceptó la petición pero no devolvió el SID: %(body)s")
                % {"body": snippet(response)},
            )
        return str(sid)

    def check_connection(self) -> ConnectionStatus:
        try:
            response = request(self.client, "GET", f"/2010-04-01/Accounts/{self.account_sid}.json")
        except SendError as exc:
            return unreachable(gettext("sin conexión con Twilio: %(reason)s") % {"reason": exc.reason})
        if response.status_code >= 500:
            return unreachable(gettext("Twilio respondió HTTP %(status)s") % {"status": response.status_code})
        if response.status_code >= 300:
            text = gettext("Twilio rechazó la consulta: %(error)s")
            return ConnectionStatus(False, text % {"error": classify_response(response)})
        data = json_body(response)
        status = str(data.get("status") or "") if isinstance(data, dict) else ""
        if status != "active":
            text = (
                gettext("la cuenta de Twilio está %(status)s") % {"status": status}
                if status
                else gettext("la cuenta de Twilio está en estado desconocido")
            )
            return ConnectionStatus(False, text)
        return ConnectionStatus(True, gettext("cuenta de Twilio activa"), {"status": status})

    def close(self) -> None:
        self.client.close()
