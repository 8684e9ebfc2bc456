"""Message templates: safe placeholders and per-message variation.

Placeholders are a fixed set of Spanish names in braces ({nombre}, {codigo}...), with the
English names of earlier versions ({name}, {code}...) kept as aliases. Nothing in a
template is ever evaluated: attribute access, indexes, positional fields and unknown
names are rejected when the campaign is created. Variation comes from alternatives in
square brackets, ``[Hola|Buenas|Qué tal]``, and a closing emoji; both are chosen from a
seed fixed per message, so a retry sends exactly the same text, unless the promotion was
changed in between (then only the promotion's words differ: goteo.content).
"""

from __future__ import annotations

import json
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

PLACEHOLDERS = {
    "nombre": "nombre de pila del contacto",
    "nombre_completo": "nombre completo del contacto",
    "codigo": "código de la promoción",
    "beneficio": "beneficio de la promoción",
    "valido_hasta": "fecha de vencimiento (dd/mm/aaaa)",
}
# The English names templates were first written with; they keep working everywhere.
ALIASES = {
    "name": "nombre",
    "full_name": "nombre_completo",
    "code": "codigo",
    "benefit": "beneficio",
    "valid_until": "valido_hasta",
}

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_CHOICE = re.compile(r"\[([^\[\]]*\|[^\[\]]*)\]")


class TemplateError(ValueError):
    """A template that cannot be used; the message says what is wrong and what is valid."""


def valid_placeholders_text() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def canonical(name: str) -> str | None:
    """The Spanish name of a placeholder written either way, or None if it is not one."""
    if name in PLACEHOLDERS:
        return name
    return ALIASES.get(name)


def parse_provider_template(spec: str) -> dict[str, Any]:
    """``promo_monturas:es:nombre,codigo`` (or the JSON form) to the provider template dict.

    The first part is Meta's template name or Twilio's ContentSid (``HX...``); the language
    defaults to ``es``; the placeholders fill {{1}}, {{2}}... in order. "" is no template.
    """
    spec = (spec or "").strip()
    if not spec:
        return {}
    if spec.startswith("{"):
        try:
            data = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"La plantilla del proveedor no es JSON válido: {exc.msg}.") from exc
        return validate_provider_template(data)
    name, _sep, rest = spec.partition(":")
    language, _sep, params = rest.partition(":")
    data = {"name": name.strip(), "language": language.strip() or "es"}
    data["params"] = [p.strip() for p in params.split(",") if p.strip()]
    return validate_provider_template(data)


def provider_template_spec(data: dict[str, Any] | None) -> str:
    """The short form of a provider template, ``promo_monturas:es:nombre,codigo``, for editing."""
    if not data:
        return ""
    return f"{data.get('name', '')}:{data.get('language') or 'es'}:{','.join(data.get('params') or [])}"


def validate_provider_template(data: Any) -> dict[str, Any]:
    """Check an approved template ({"name", "language", "params"}) before anything is sent.

    A wrong name only shows at Meta or Twilio, but a placeholder that does not exist would
    brake the number at the first send, so it is refused here, naming the valid ones.
    """
    if data in (None, "", {}):
        return {}
    if not isinstance(data, dict):
        raise TemplateError(
            'La plantilla del proveedor debe ser un objeto como {"name": "promo", "params": []}.'
        )
    name = str(data.get("name") or data.get("content_sid") or "").strip()
    if not name:
        raise TemplateError(
            "La plantilla del proveedor necesita su nombre (Meta) o su ContentSid HX... (Twilio)."
        )
    params = data.get("params") or []
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise TemplateError("Los parámetros de la plantilla del proveedor son una lista de marcadores.")
    unknown = [p for p in params if canonical(p) is None]
    if unknown:
        listed = ", ".join(PLACEHOLDERS)
        raise TemplateError(
            f"Parámetro desconocido en la plantilla del proveedor: {', '.join(unknown)}. Los válidos son: {listed}."
        )
    language = str(data.get("language") or "es").strip()
    return {"name": name, "language": language, "params": list(params)}


def validate_template(template: str) -> list[str]:
    """Check a template and return the placeholders it uses, in order, by their Spanish names."""
    if not template or not template.strip():
        raise TemplateError("La plantilla está vacía.")
    used: list[str] = []
    for match in _FIELD.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise TemplateError(
                f"Llave sin cerrar en la posición {match.start() + 1}; "
                "para escribir una llave literal use {{ o }}."
            )
        name = canonical(match.group(1))
        if name is None:
            raise TemplateError(
                f"Marcador no permitido {token}. Los válidos son: {valid_placeholders_text()}."
            )
        used.append(name)
    return used


@dataclass(frozen=True)
class Variables:
    """The values placeholders are replaced with."""

    full_name: str
    code: str = ""
    benefit: str = ""
    valid_until: date | None = None

    def as_dict(self) -> dict[str, str]:
        """Each placeholder's value, under its Spanish name and its English alias."""
        parts = self.full_name.split()
        values = {
            "nombre": parts[0] if parts else "",
            "nombre_completo": self.full_name.strip(),
            "codigo": self.code,
            "beneficio": self.benefit,
            "valido_hasta": day_text(self.valid_until) if self.valid_until else "",
        }
        return values | {alias: values[name] for alias, name in ALIASES.items()}


@cache
def day_text(day: date) -> str:
    """02/01/2026: a launch formats the same date for every one of its messages."""
    return day.strftime("%d/%m/%Y")


def person_key(template: str) -> Callable[[str], str] | None:
    """For a template without alternatives, whose text before the emoji depends on nothing
    but the person's name: the part of the full name it uses, so that text can be rendered
    once per different name (``with_emoji`` closes each message); else None.
    """
    if _CHOICE.search(template):
        return None
    used = set(validate_template(template))
    if "nombre_completo" in used:
        return str.strip
    if "nombre" in used:
        return lambda full_name: next(iter(full_name.split()), "")
    return lambda full_name: ""


def message_seed(campaign_id: int, key: str) -> int:
    """A seed stable across processes and Python versions for one message."""
    return zlib.crc32(f"{campaign_id}:{key}".encode())


def render(template: str, variables: Variables, *, seed: int, emojis: Sequence[str] = ()) -> str:
    """The message text for one person: alternatives chosen, placeholders filled, emoji added.

    The template must have passed ``validate_template``.
    """
    rng: random.Random | None = None  # seeded on first use: most templates never draw

    def pick(options: Sequence[str]) -> str:
        nonlocal rng
        if rng is None:
            rng = random.Random(seed)
        return rng.choice(options)

    values = variables.as_dict()
    text = _CHOICE.sub(lambda m: pick(m.group(1).split("|")), template)

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values[match.group(1)]

    return with_emoji(_FIELD.sub(fill, text).rstrip(), emojis, seed)


def with_emoji(text: str, emojis: Sequence[str], seed: int) -> str:
    """The text closed with the message's emoji from the set, chosen by its seed."""
    return f"{text} {emojis[seed % len(emojis)]}" if emojis else text


def split_emojis(text: str) -> list[str]:
    """The campaign's emoji setting (space separated) as a list."""
    return [e for e in (text or "").split() if e]


DEFAULT_OPT_OUT_FOOTER = "Responde BAJA para no recibir más promociones"
FOOTER_OFF = {"0", "no", "off", "false", "ninguno"}


def opt_out_footer(enabled: bool = True) -> str:
    """The opt-out text added to every promotion, or "" when turned off.

    The installation sets the text with GOTEO_OPT_OUT_FOOTER (``off`` turns it off
    everywhere); each campaign turns it on or off with ``Campaign.opt_out_footer``.
    """
    if not enabled:
        return ""
    from django.conf import settings

    from goteo.conf import env_str

    raw = getattr(settings, "GOTEO_OPT_OUT_FOOTER", None)
    text = (raw if raw is not None else env_str("GOTEO_OPT_OUT_FOOTER", DEFAULT_OPT_OUT_FOOTER)).strip()
    return "" if text.lower() in FOOTER_OFF else text


def add_footer(text: str, footer: str) -> str:
    """The message with the opt-out text on its own paragraph (once, if the text lacks it)."""
    if not footer or footer.casefold() in text.casefold():
        return text
    return f"{text}\n\n{footer}"
