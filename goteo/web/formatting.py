"""Dates, moments and numbers in the visitor's language, with Colombian conventions in Spanish."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, numberformat
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, gettext_noop, ngettext, pgettext

# Spanish pages follow es-CO (1.000.000 and 3,5), not the Spanish of Spain.
FORMAT_LOCALES = {"es": "es-co"}


def format_locale() -> str:
    language = (get_language() or "es").split("-")[0]
    return FORMAT_LOCALES.get(language, language)


def number(value: int | float | None) -> str:
    """``1000000`` -> ``1.000.000`` in Spanish, ``1,000,000`` in English."""
    if value is None:
        return "—"
    locale = format_locale()
    return numberformat.format(
        value,
        formats.get_format("DECIMAL_SEPARATOR", locale),
        grouping=formats.get_format("NUMBER_GROUPING", locale),
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR", locale),
        force_grouping=True,
    )


def percent(part: int, total: int) -> int:
    """Whole percentage of ``part`` in ``total`` (0 when there is nothing)."""
    return round(100 * part / total) if total else 0


def rate_text(value: float | None) -> str:
    """A share of those sent: ``12.5`` -> ``12,5 %`` in Spanish, ``7.0`` -> ``7 %``; ``—`` for None."""
    if value is None:
        return "—"
    shown = number(int(value)) if value == int(value) else number(round(value, 1))
    return f"{shown} %"


def day_text(day: date | None, *, year: bool = True) -> str:
    """``jueves 8 de enero de 2026`` / ``Thursday, January 8, 2026``."""
    if day is None:
        return "—"
    if year:
        pattern = pgettext("fecha con día de la semana", "l j \\d\\e F \\d\\e Y")
    else:
        pattern = pgettext("fecha con día de la semana sin año", "l j \\d\\e F")
    return formats.date_format(day, pattern)


def moment_text(when: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """When something happens next, as people say it: ``Mañana 09:00``, ``Lunes 09:00``."""
    if when is None:
        return "—"
    local = when.astimezone(tz)
    hour = local.strftime("%H:%M")
    days = (local.date() - now.astimezone(tz).date()).days
    if days <= 0:
        if when <= now:
            return gettext("Ahora")
        return gettext("Hoy %(hora)s") % {"hora": hour}
    if days == 1:
        return gettext("Mañana %(hora)s") % {"hora": hour}
    if days < 7:
        return f"{capfirst(formats.date_format(local, 'l'))} {hour}"
    return f"{formats.date_format(local, 'd/m/Y')} {hour}"


def contact_noun(count: int) -> str:
    """What the installation calls the people it writes to, singular or plural for ``count``.

    GOTEO_CONTACT_NOUN sets it (``pacientes``, or ``paciente,pacientes`` when the singular
    is not the plural without its last s); unset, it is "clientes" in the page's language.
    """
    setting = str(getattr(settings, "GOTEO_CONTACT_NOUN", "") or "").strip()
    if not setting:
        return ngettext("cliente", "clientes", count)
    singular, _sep, plural = setting.partition(",")
    if not plural:
        plural = singular
        singular = singular[:-1] if singular.endswith("s") else singular
    return (singular if count == 1 else plural).strip()


def audience_text(spec: str) -> str:
    """A campaign's audience in words: ``tag:demo`` -> ``etiqueta demo``,
    ``segment:un año sin examen`` -> ``segmento «un año sin examen»``."""
    if not spec or spec == "all":
        return gettext("todos los que aceptan promociones")
    kind, _sep, name = spec.partition(":")
    if kind == "tag" and name:
        return gettext("etiqueta %(nombre)s") % {"nombre": name}
    if kind == "segment" and name:
        return gettext("segmento «%(nombre)s»") % {"nombre": name}
    return spec


QUALITY = {
    "GREEN": (
        gettext_noop("alta"),
        gettext_noop("WhatsApp ve pocas quejas y bloqueos de quienes reciben sus mensajes."),
    ),
    "YELLOW": (
        gettext_noop("media"),
        gettext_noop("Varias personas bloquearon o reportaron sus mensajes: conviene enviar menos."),
    ),
    "RED": (
        gettext_noop("baja"),
        gettext_noop("WhatsApp puede restringir el número pronto; goteo lo frena por hoy."),
    ),
}


def quality_text(rating: str) -> tuple[str, str]:
    """(the rating in a word, what it means) for Meta's quality rating of a number."""
    if not rating:
        return gettext("sin dato"), gettext("Este proveedor no informa la calidad del número.")
    word, meaning = QUALITY.get(rating.upper(), (rating, ""))
    return gettext(word), gettext(meaning) if meaning else ""
