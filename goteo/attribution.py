"""Which campaign a person's message answers, and the campaign's reply and opt-out counts.

A message from a phone answers the campaign message that last went to that phone before it
arrived, within GOTEO_REPLY_WINDOW_DAYS (7 by default; 0 attributes nothing). Older than
that, it is a message from a customer, not an answer to a promotion.

Counters move once per campaign message, whatever the order and however many webhooks race:

* the first reply that is not an opt-out sets ``Message.replied_at`` and adds one to
  ``Campaign.replied_count`` (a conditional update: only one writer finds it empty);
* an opt-out adds one to ``Campaign.opted_out_count`` the first time a message gets one
  (under the message's row lock, so two at once count once) and never counts as a reply.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F

from goteo.models import Campaign, InboundMessage, Message
from goteo.phones import mask_phone
from goteo.writes import write_transaction

log = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 7
# The provider stamps a reply with its own clock and goteo stamps its sends with ours: a
# reply seconds after a send may carry a time a little before it.
CLOCK_SLACK = timedelta(minutes=2)


def window() -> timedelta:
    """How long after a promotion a message still answers it (GOTEO_REPLY_WINDOW_DAYS)."""
    days = int(getattr(settings, "GOTEO_REPLY_WINDOW_DAYS", DEFAULT_WINDOW_DAYS))
    if days < 0:
        raise ValueError(f"GOTEO_REPLY_WINDOW_DAYS no puede ser negativo: {days}")
    return timedelta(days=days)


def answered_message(phone: str, at: datetime) -> Message | None:
    """The campaign message that last went to ``phone`` before ``at``, within the window."""
    from goteo.receipts import phone_candidates

    span = window()
    if not phone or not span:
        return None
    sent = Message.objects.filter(
        phone__in=phone_candidates(phone), sent_at__gte=at - span, sent_at__lte=at + CLOCK_SLACK
    )
    return sent.order_by("-sent_at", "-id").first()


def attribute(message: InboundMessage) -> Message | None:
    """Tie ``message`` to the campaign it answers and count it there; the message it answers.

    Nothing happens to a message without a phone, one already attributed, or one outside
    the window.
    """
    if not message.phone or message.in_reply_to_id is not None:
        return None
    target = answered_message(message.phone, message.received_at)
    if target is None:
        return None
    with write_transaction():
        # The campaign message's row first: two replies to it at once take turns here.
        Message.objects.select_for_update().filter(pk=target.pk).values_list("pk", flat=True).first()
        tied = InboundMessage.objects.filter(pk=message.pk, in_reply_to__isnull=True).update(
            campaign_id=target.campaign_id, in_reply_to_id=target.pk
        )
        if not tied:
            return None  # another request attributed it first
        message.campaign_id, message.in_reply_to_id = target.campaign_id, target.pk
        if message.is_opt_out:
            count_opt_out(message, target)
        else:
            count_reply(message, target)
    log.info(
        "inbound %s from %s answers campaign %s", message.pk, mask_phone(message.phone), target.campaign_id
    )
    return target


def count_reply(message: InboundMessage, target: Message) -> bool:
    """The first reply to ``target`` marks it replied and counts once; True when it did."""
    first = Message.objects.filter(pk=target.pk, replied_at__isnull=True).update(
        replied_at=message.received_at
    )
    if first:
        Campaign.objects.filter(pk=target.campaign_id).update(replied_count=F("replied_count") + 1)
    return bool(first)


def count_opt_out(message: InboundMessage, target: Message) -> bool:
    """The first opt-out answering ``target`` counts once; True when it did.

    Called with ``target``'s row locked, so the check and the count are one step.
    """
    earlier = InboundMessage.objects.filter(in_reply_to_id=target.pk, is_opt_out=True).exclude(pk=message.pk)
    if earlier.exists():
        return False
    Campaign.objects.filter(pk=target.campaign_id).update(opted_out_count=F("opted_out_count") + 1)
    return True
