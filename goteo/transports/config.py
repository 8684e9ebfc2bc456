"""Where each provider's settings come from: environment variables or a sender's row.

The default sender (``from_environment``) reads WHATSAPP_* and the provider's own variables;
senders added by staff keep non-secret settings in ``config`` and credentials in the
write-only ``secrets``. A missing credential is a ``ConfigurationError`` naming what to set,
raised when the sender is used, never at start-up. Values are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from goteo.conf import env_str

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from goteo.models import Sender


class ConfigurationError(Exception):
    """A sender cannot be used as configured; the message says what to fix."""


@dataclass(frozen=True)
class Setting:
    """One provider setting: its key in ``config``, its variable, and whether it is needed."""

    key: str
    env: str
    label: StrOrPromise  # shown in the sender form, so translated when read
    required: bool = False
    secret: bool = False
    default: str = ""


SETTINGS: dict[str, tuple[Setting, ...]] = {
    "cloud": (
        Setting("token", "WHATSAPP_CLOUD_TOKEN", _("token de acceso de Meta"), True, True),
        Setting("phone_number_id", "WHATSAPP_CLOUD_PHONE_NUMBER_ID", _("identificador del número"), True),
        Setting("api_version", "WHATSAPP_CLOUD_API_VERSION", _("versión de la API"), default="v25.0"),
        Setting(
            "base_url",
            "WHATSAPP_CLOUD_BASE_URL",
            _("URL de la API"),
            default="https://graph.facebook.com",
        ),
        Setting("app_secret", "WHATSAPP_APP_SECRET", _("clave secreta de la app"), secret=True),
        Setting("verify_token", "WHATSAPP_VERIFY_TOKEN", _("token de verificación"), secret=True),
    ),
    "twilio": (
        Setting("account_sid", "TWILIO_ACCOUNT_SID", _("Account SID de Twilio"), True),
        Setting("auth_token", "TWILIO_AUTH_TOKEN", _("Auth Token de Twilio"), True, True),
        Setting("from", "TWILIO_WHATSAPP_FROM", _("número remitente de WhatsApp en Twilio"), True),
        Setting("base_url", "TWILIO_BASE_URL", _("URL de la API"), default="https://api.twilio.com"),
    ),
    "evolution": (
        Setting("base_url", "EVOLUTION_BASE_URL", _("URL de Evolution API"), True),
        Setting("api_key", "EVOLUTION_API_KEY", _("apikey de Evolution API"), True, True),
        Setting("instance", "EVOLUTION_INSTANCE", _("nombre de la instancia"), True),
        Setting(
            "webhook_secret",
            "EVOLUTION_WEBHOOK_SECRET",
            _("secreto de la URL del webhook"),
            secret=True,
        ),
    ),
    "waha": (
        Setting("base_url", "WAHA_BASE_URL", _("URL de WAHA"), True),
        Setting("api_key", "WAHA_API_KEY", _("X-Api-Key de WAHA"), secret=True),
        Setting("session", "WAHA_SESSION", _("sesión de WAHA"), default="default"),
        Setting("webhook_hmac_key", "WAHA_WEBHOOK_HMAC_KEY", _("clave HMAC del webhook"), secret=True),
    ),
}

# Settings every gateway understands: the typing pause before each message.
TYPING = Setting("typing", "WHATSAPP_TYPING", _("simular que se escribe"))


def env_config(backend: str) -> dict[str, Any]:
    """The settings of ``backend`` read from the environment (defaults filled in)."""
    config: dict[str, Any] = {}
    for setting in SETTINGS.get(backend, ()):
        value = env_str(setting.env, setting.default)
        if value:
            config[setting.key] = value
    if backend in ("evolution", "waha") and env_str(TYPING.env):
        config[TYPING.key] = env_str(TYPING.env).lower() in {"1", "true", "yes", "si", "sí", "on"}
    return config


def sender_config(sender: Sender) -> dict[str, Any]:
    """The complete settings ``sender`` sends with; raises ``ConfigurationError`` if incomplete."""
    backend = sender.effective_backend
    if sender.from_environment:
        config = env_config(backend)
    else:
        config = {s.key: s.default for s in SETTINGS.get(backend, ()) if s.default}
        config.update({k: v for k, v in (sender.config or {}).items() if v not in ("", None)})
        config.update({k: v for k, v in (sender.secrets or {}).items() if v not in ("", None)})
    missing = [s for s in SETTINGS.get(backend, ()) if s.required and not config.get(s.key)]
    if missing:
        raise ConfigurationError(missing_message(sender, backend, missing))
    return config


def missing_message(sender: Sender, backend: str, missing: list[Setting]) -> str:
    """A sentence naming what to set, as environment variables or as the sender's fields."""
    if sender.from_environment:
        names = ", ".join(f"{s.env} ({s.label})" for s in missing)
        return gettext(
            "El número «%(name)s» usa %(backend)s pero faltan variables de entorno: %(missing)s. "
            "Defínalas y vuelva a intentarlo."
        ) % {"name": sender.name, "backend": backend, "missing": names}
    names = ", ".join(f"{s.label} ({s.key})" for s in missing)
    text = gettext(
        "Al número «%(name)s» (%(backend)s) le falta: %(missing)s. Complételo en su configuración."
    )
    return text % {"name": sender.name, "backend": backend, "missing": names}


def secret_keys(backend: str) -> frozenset[str]:
    """Keys of ``backend`` that are credentials: stored write-only, never shown or logged."""
    return frozenset(s.key for s in SETTINGS.get(backend, ()) if s.secret)


def senders_using(backend: str) -> list[tuple[Sender, dict[str, Any]]]:
    """Active senders on ``backend`` with their complete settings (incomplete ones left out).

    The default sender is included when the environment selects ``backend``, created on
    first use like everywhere else.
    """
    from goteo.models import Sender
    from goteo.models.senders import env_backend

    senders = [s for s in Sender.objects.filter(is_active=True) if s.effective_backend == backend]
    if env_backend() == backend and not any(s.from_environment for s in senders):
        default = Sender.get_default()
        if default.is_active:
            senders.append(default)
    found = []
    for sender in senders:
        try:
            found.append((sender, sender_config(sender)))
        except ConfigurationError:
            continue
    return found
