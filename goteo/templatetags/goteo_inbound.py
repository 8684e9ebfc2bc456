"""The dashboard's alert for opt-outs from people goteo could not identify, and the count of
replies waiting for someone."""

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


@register.simple_tag
def unread_replies(campaign_id: int | None = None) -> int:
    """How many replies (of one campaign, or all) nobody has handled yet, up to 100.

    Every page asks for the header, so the count reads the (handled_at, phone) index and
    stops at 100: the header shows "99+" beyond.
    """
    waiting = InboundMessage.unread_replies().order_by()
    if campaign_id is not None:
        waiting = waiting.filter(campaign_id=campaign_id)
    return len(waiting.values_list("pk", flat=True)[:SHOWN_AT_MOST])


@register.filter
def up_to_99(count: int) -> str:
    """A count for a small badge: "99+" past 99."""
    return "99+" if count > 99 else str(count)
