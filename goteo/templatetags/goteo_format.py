"""Template filters for the dashboard's numbers and dates."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.safestring import mark_safe

from goteo.web import formatting

register = template.Library()


@register.filter
def number(value: int | float | None) -> str:
    """``{{ 1000000|number }}`` -> ``1.000.000`` in Spanish."""
    return formatting.number(value)


@register.filter
def rate(value: float | None) -> str:
    """``{{ 12.5|rate }}`` -> ``12,5 %`` in Spanish; ``—`` when nothing was sent."""
    return formatting.rate_text(value)


@register.filter
def contact_noun(count: int) -> str:
    """``{{ n|contact_noun }}`` -> ``clientes`` (or the installation's GOTEO_CONTACT_NOUN)."""
    return formatting.contact_noun(count)


@register.filter
def audience(spec: str) -> str:
    """``{{ campaign.audience|audience }}`` -> ``etiqueta demo``."""
    return formatting.audience_text(spec)


@register.inclusion_tag("goteo/_quality.html")
def quality(rating: str) -> dict[str, str]:
    """``{% quality rating %}``: the number's quality in a word, and what it means."""
    word, meaning = formatting.quality_text(rating or "")
    return {"word": word, "meaning": meaning, "rating": (rating or "").lower()}


@register.filter
def long_day(value: date | None) -> str:
    """``{{ day|long_day }}`` -> ``jueves 8 de enero de 2026``."""
    return formatting.day_text(value)


@register.simple_tag(takes_context=True)
def current_section(context: template.Context, prefix: str) -> str:
    """``aria-current="page"`` on the menu entry of the page being shown."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "url_name", "") or ""
    return mark_safe(' aria-current="page"') if name.startswith(prefix) else ""
