"""The dashboard's alert for opt-outs from people goteo could not identify."""

from __future__ import annotations

from django import template

from goteo.models import InboundMessage

register = template.Library()
SHOWN_AT_MOST = 100


@register.simple_tag
def unidentified_opt_outs() -> int:
    """How many opt-out requests wait for a person to tie them to a contact (up to 100).

    Every page asks, so the count stops at 100: the alert only needs to say there are some.
    """
    waiting = InboundMessage.unidentified().filter(is_opt_out=True).order_by()
    return len(waiting.values_list("pk", flat=True)[:SHOWN_AT_MOST])
