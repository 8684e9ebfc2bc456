"""The dashboard's alert for opt-outs from people goteo could not identify."""

from __future__ import annotations

from django import template

from goteo.models import InboundMessage

register = template.Library()


@register.simple_tag
def unidentified_opt_outs() -> int:
    """How many opt-out requests wait for a person to tie them to a contact."""
    return InboundMessage.unidentified().filter(is_opt_out=True).count()
