"""A person's conversation with the shop: the promotions sent to them and what they wrote back.

Both sides in time order, read through the contact's own rows (and their phone, for rows
whose contact was deleted since), the newest ``LIMIT`` of each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from goteo.models import Campaign, Contact, InboundMessage, Message

LIMIT = 200


@dataclass(frozen=True)
class Entry:
    """One bubble: a promotion goteo sent (``sent``) or a message the person wrote."""

    at: datetime
    sent: bool
    text: str
    campaign: Campaign | None
    delivery: str = ""  # a promotion's last receipt: "", "sent", "delivered", "read", "failed"
    is_opt_out: bool = False
    handled: bool = False


def whose(contact: Contact) -> Q:
    """The rows of ``contact``: theirs, or written to or from their phone."""
    from goteo.receipts import phone_candidates

    mine = Q(contact=contact)
    return mine | Q(phone__in=phone_candidates(contact.phone)) if contact.phone else mine


def conversation(contact: Contact, limit: int = LIMIT) -> list[Entry]:
    """The promotions sent to ``contact`` and their messages, oldest first."""
    sent = (
        Message.objects.filter(whose(contact), sent_at__isnull=False)
        .select_related("campaign")
        .order_by("-sent_at", "-id")[:limit]
    )
    received = (
        InboundMessage.objects.filter(whose(contact))
        .select_related("campaign")
        .order_by("-received_at", "-id")[:limit]
    )
    entries = [
        Entry(m.sent_at, True, m.rendered_text, m.campaign, delivery=m.delivery_status)
        for m in sent
        if m.sent_at is not None
    ]
    entries += [
        Entry(
            r.received_at,
            False,
            r.text,
            r.campaign,
            is_opt_out=r.is_opt_out,
            handled=r.handled_at is not None,
        )
        for r in received
    ]
    return sorted(entries, key=lambda e: (e.at, not e.sent))
