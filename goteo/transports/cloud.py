"""Meta's WhatsApp Cloud API: approved templates (or free text) through the Graph API."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from django.utils.translation import gettext, gettext_noop

from goteo.phones import mask_phone
from goteo.transports import cloud_media
from goteo.transports.base import ConnectionStatus, OutgoingMessage, SendError, Transport, unreachable
from goteo.transports.config import ConfigurationError
from goteo.transports.http import json_body, make_client, request, snippet

logger = logging.getLogger(__name__)

DAY = 24 * 3600

# Error codes by what they mean for the message and the number (Meta's error-code table).
AUTH_CODES = frozenset({0, 3, 10, 190, 131005}) | frozenset(range(200, 300))
SPAM_CODES = frozenset({131048, 131064})
ACCOUNT_CODES = frozenset(
    {368, 131031, 131042, 33, 133010, 131045, 131037, 131063, 131030, 100, 131008, 131051, 135000}
)
THROTTLE_CODES = frozenset({4, 80007, 130429})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 131057, 133004})
RECIPIENT_CODES = frozenset({131026, 130403, 131021, 130472, 130497, 131009, 137000, 131047})
OPT_OUT_CODE = 131050
PAIR_RATE_CODE = 131056
PER_USER_MARKETING_CODE = 131049

# Fields read for the connection check; unknown ones are ignored by the API.
HEALTH_FIELDS = (
    "display_phone_number,verified_name,status,quality_rating,name_status,"
    "health_status,whatsapp_business_manager_messaging_limit,throughput"
)


def classify_error(code: int | None, detail: str) -> SendError:
    """What a Graph API error ``code`` means for this message and for the number."""
    tag = str(code) if code is not None else ""
    d = {"detail": detail}
    if code is None:
        return SendError(SendError.RETRY, gettext("error de la API de Meta sin código: %(detail)s") % d)
    if code in AUTH_CODES:
        return SendError(
            SendError.DISCONNECTED,
            gettext("Meta rechazó el token o sus permisos (%(detail)s); genere un token nuevo") % d,
            code=tag,
        )
    if code in SPAM_CODES:
        return SendError(
            SendError.BRAKE,
            gettext("Meta limitó el número por spam o calidad (%(detail)s); revise WhatsApp Manager") % d,
            code=tag,
        )
    if code in ACCOUNT_CODES or 132000 <= code <= 132999:
        return SendError(
            SendError.BRAKE,
            gettext("Meta no deja enviar con esta cuenta o plantilla: %(detail)s") % d,
            code=tag,
        )
    if code == PAIR_RATE_CODE:
        return SendError(
            SendError.RETRY,
            gettext("demasiados mensajes seguidos a esta persona: %(detail)s") % d,
            code=tag,
            retry_after=60,
        )
    if code == PER_USER_MARKETING_CODE:
        return SendError(
            SendError.RETRY,
            gettext("Meta limita las promociones a esta persona; se reintenta en 24 horas: %(detail)s") % d,
            code=tag,
            retry_after=DAY + 600,
        )
    if code == OPT_OUT_CODE:
        return SendError(
            SendError.PERMANENT,
            gettext("la persona pidió no recibir promociones de esta empresa: %(detail)s") % d,
            code=tag,
            opted_out=True,
        )
    if code in RECIPIENT_CODES:
        return SendError(
            SendError.PERMANENT, gettext("no se puede entregar a este número: %(detail)s") % d, code=tag
        )
    if code in THROTTLE_CODES:
        return SendError(
            SendError.RETRY, gettext("límite de velocidad de Meta: %(detail)s") % d, code=tag, retry_after=300
        )
    if code in TRANSIENT_CODES:
        return SendError(SendError.RETRY, gettext("error pasajero de Meta: %(detail)s") % d, code=tag)
    return SendError(SendError.RETRY, gettext("error de Meta: %(detail)s") % d, code=tag)


def classify_response(response: httpx.Response) -> SendError:
    """A failed HTTP answer from the Graph API as a ``SendError``."""
    if response.status_code >= 500:
        return SendError(
            SendError.UNKNOWN,
            gettext("Meta respondió HTTP %(status)s después de recibir el mensaje")
            % {"status": response.status_code},
            code=f"http{response.status_code}",
        )
    body = json_body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        return classify_error(code if isinstance(code, int) else None, error_detail(error))
    if response.status_code == 429:
        return SendError(SendError.RETRY, gettext("Meta pidió esperar (HTTP 429)"), code="http429")
    if response.status_code in (401, 403):
        return SendError(
            SendError.DISCONNECTED,
            gettext("Meta rechazó las credenciales (HTTP %(status)s)") % {"status": response.status_code},
            code=f"http{response.status_code}",
        )
    return SendError(
        SendError.DISCONNECTED,
        gettext("respuesta inesperada de Meta, HTTP %(status)s: %(body)s")
        % {"status": response.status_code, "body": snippet(response)},
        code=f"http{response.status_code}",
    )


def error_detail(error: dict[str, Any]) -> str:
    """The human explanation in a Graph error (details, else the message)."""
    data = error.get("error_data")
    if isinstance(data, dict) and data.get("details"):
        return str(data["details"])
    return str(error.get("message") or gettext("sin detalle"))


def template_component(template: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """The ``template`` object for an approved template, parameters in placeholder order."""
    params = list(template.get("params") or [])
    missing = [p for p in params if p not in variables]
    if missing:
        raise SendError(
            SendError.BRAKE,
            gettext("la plantilla %(template)s pide %(missing)s, que no existe")
            % {"template": repr(template["name"]), "missing": ", ".join(missing)},
        )
    body: dict[str, Any] = {
        "name": template["name"],
        "language": {"code": template.get("language") or "es", "policy": "deterministic"},
    }
    if params:
        body["components"] = [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": variables[p] or "-"} for p in params],
            }
        ]
    return body


class CloudTransport(Transport):
    """Sends through ``POST /<version>/<phone_number_id>/messages`` with a Bearer token."""

    name = "cloud"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        for key in ("token", "phone_number_id"):
            if not self.config.get(key):
                raise ConfigurationError(gettext("Falta %(key)s para la Cloud API de Meta.") % {"key": key})
        version = str(self.config.get("api_version") or "v25.0")
        self.version = version if version.startswith("v") else f"v{version}"
        self.phone_number_id = str(self.config["phone_number_id"])
        self.client = make_client(
            str(self.config.get("base_url") or "https://graph.facebook.com"),
            headers={"Authorization": f"Bearer {self.config['token']}"},
            read_timeout=float(self.config.get("read_timeout") or 20),
        )
        media_path = f"/{self.version}/{self.phone_number_id}/media"
        self.uploads = cloud_media.Uploads(self.client, media_path, self.phone_number_id)

    def payload(self, message: OutgoingMessage, media_id: str = "") -> dict[str, Any]:
        """The JSON body for ``message``: a template when the campaign has one, else text.

        With a file (``media_id``, uploaded), the text is its caption, or the file is the
        approved template's header.
        """
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.to,
            "biz_opaque_callback_data": message.message_id,
        }
        template = message.provider_template or {}
        media = message.media
        if template.get("name"):
            body["type"] = "template"
            body["template"] = template_component(template, message.variables)
            if media is not None:
                body["template"] = cloud_media.with_header(body["template"], media, media_id)
        elif media is not None:
            body["type"] = media.kind
            body[media.kind] = cloud_media.media_object(media, media_id, message.text)
        else:
            body["type"] = "text"
            body["text"] = {"preview_url": False, "body": message.text}
        return body

    def send(self, message: OutgoingMessage) -> str:
        media = message.media
        if media is None:
            return self.post(message)
        try:
            return self.post(message, self.uploads.media_id(media))
        except SendError as error:
            if not cloud_media.stale_media(error):
                raise
            logger.info(
                "Cloud API refused the media id of %s (%s); uploading it again", media.file_name, error
            )
        # The send was refused, so nothing went out: upload again and resend once.
        self.uploads.forget(media)
        try:
            return self.post(message, self.uploads.media_id(media))
        except SendError as error:
            if cloud_media.stale_media(error):
                raise cloud_media.refused_file(media, error.reason) from error
            raise

    def post(self, message: OutgoingMessage, media_id: str = "") -> str:
        """One ``messages`` request; the provider's message id, or ``SendError``."""
        body = self.payload(message, media_id)
        url = f"/{self.version}/{self.phone_number_id}/messages"
        response = request(self.client, "POST", url, json=body)
        if response.status_code >= 300:
            error = classify_response(response)
            logger.info("Cloud API a %s: %s", mask_phone(message.to), error)
            raise error
        data = json_body(response)
        try:
            return str(data["messages"][0]["id"])
        except (TypeError, KeyError, IndexError):
            raise SendError(
                SendError.UNKNOWN,
                gettext("Meta aceptó la petición pero no devolvió el id del mensaje: %(body)s")
                % {"body": snippet(response)},
            ) from None

    def check_connection(self) -> ConnectionStatus:
        try:
            response = request(
                self.client,
                "GET",
                f"/{self.version}/{self.phone_number_id}",
                params={"fields": HEALTH_FIELDS},
            )
        except SendError as exc:
            return unreachable(gettext("sin conexión con Meta: %(reason)s") % {"reason": exc.reason})
        if response.status_code >= 500:
            return unreachable(classify_response(response).reason)
        if response.status_code >= 300:
            error = classify_response(response)
            return ConnectionStatus(False, gettext("Meta rechazó la consulta: %(error)s") % {"error": error})
        data = json_body(response)
        if not isinstance(data, dict):
            return ConnectionStatus(
                False, gettext("respuesta ilegible de Meta: %(body)s") % {"body": snippet(response)}
            )
        return phone_status(data)

    def close(self) -> None:
        self.client.close()


# Meta's codes in the shop's words; the codes stay in ``extra`` for machines.
PHONE_STATUS_WORDS = {
    "CONNECTED": gettext_noop("conectado"),
    "PENDING": gettext_noop("pendiente de activar"),
    "DISCONNECTED": gettext_noop("desconectado"),
    "FLAGGED": gettext_noop("señalado por Meta"),
    "RESTRICTED": gettext_noop("restringido"),
    "RATE_LIMITED": gettext_noop("limitado por exceso de envíos"),
    "BANNED": gettext_noop("bloqueado por Meta"),
    "DELETED": gettext_noop("eliminado"),
    "MIGRATED": gettext_noop("trasladado a otra cuenta"),
    "UNVERIFIED": gettext_noop("sin verificar"),
}
QUALITY_WORDS = {
    "GREEN": gettext_noop("alta"),
    "YELLOW": gettext_noop("media"),
    "RED": gettext_noop("baja"),
    "UNKNOWN": gettext_noop("sin dato"),
}
HEALTH_WORDS = {
    "AVAILABLE": gettext_noop("puede enviar"),
    "LIMITED": gettext_noop("envío limitado"),
    "BLOCKED": gettext_noop("no puede enviar"),
}


def in_words(words: dict[str, str], code: str) -> str:
    """A Meta code in Spanish; an unknown one as it came, and "?" when there is none."""
    return gettext(words[code]) if code in words else (code or "?")


def limit_in_words(limit: str) -> str:
    """TIER_250 -> "250 personas al día", TIER_UNLIMITED -> "sin límite"."""
    tier = limit.removeprefix("TIER_")
    if tier == "UNLIMITED":
        return gettext("sin límite")
    if tier and tier != limit:
        people = tier.replace("K", ".000")
        return gettext("%(people)s personas al día") % {"people": people}
    return limit or "?"


def phone_status(data: dict[str, Any]) -> ConnectionStatus:
    """Whether a phone number can send, from its Graph API fields.

    Connected means status CONNECTED and health not BLOCKED. A RED quality rating or a
    BLOCKED health is also a reason to brake the number (``extra["brake"]``).
    """
    status = str(data.get("status") or "")
    quality = str(data.get("quality_rating") or "")
    raw_health = data.get("health_status")
    health: dict[str, Any] = raw_health if isinstance(raw_health, dict) else {}
    can_send = str(health.get("can_send_message") or "")
    limit = str(data.get("whatsapp_business_manager_messaging_limit") or "")
    extra = {
        "status": status,
        "quality_rating": quality,
        "messaging_limit": limit,
        "health_status": can_send,
        "display_phone_number": str(data.get("display_phone_number") or ""),
    }
    problems = health_problems(health)
    summary = gettext("estado %(status)s, calidad %(quality)s, límite %(limit)s, salud %(health)s") % {
        "status": in_words(PHONE_STATUS_WORDS, status),
        "quality": in_words(QUALITY_WORDS, quality),
        "limit": limit_in_words(limit),
        "health": in_words(HEALTH_WORDS, can_send),
    }
    if can_send == "BLOCKED":
        blocked = gettext("Meta bloqueó el envío desde este número")
        extra["brake"] = blocked + (f": {problems}" if problems else "")
        text = gettext("%(summary)s; bloqueado: %(problems)s")
        return ConnectionStatus(
            False, text % {"summary": summary, "problems": problems or gettext("sin detalle")}, extra
        )
    if status and status != "CONNECTED":
        text = gettext("%(summary)s; el número no está conectado")
        return ConnectionStatus(False, text % {"summary": summary}, extra)
    if quality == "RED":
        extra["brake"] = gettext("la calidad del número está en ROJO")
        text = gettext("%(summary)s; calidad en rojo: se frena el número")
        return ConnectionStatus(False, text % {"summary": summary}, extra)
    limited = gettext("%(summary)s; limitado: %(problems)s")
    detail = (
        limited % {"summary": summary, "problems": problems}
        if can_send == "LIMITED" and problems
        else summary
    )
    return ConnectionStatus(True, detail, extra)


def health_problems(health: dict[str, Any]) -> str:
    """The explanations Meta attaches to LIMITED or BLOCKED entities, joined."""
    texts: list[str] = []
    for entity in health.get("entities") or []:
        if not isinstance(entity, dict):
            continue
        for info in entity.get("additional_info") or []:
            texts.append(str(info))
        for error in entity.get("errors") or []:
            if isinstance(error, dict):
                texts.append(str(error.get("error_description") or error.get("error_code")))
    return "; ".join(dict.fromkeys(texts))
