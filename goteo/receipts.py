"""Acting on what providers report back: receipts, opt-outs, and signals to brake a number.

Every function here is safe to run twice with the same event: providers retry webhooks
and deliver them out of order, so a delivery state only ever moves forward and a message
already resolved is left alone. Message states change only through
``Message.objects.transition``, as the receipt actor.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from goteo.conf import env_str
from goteo.models import (
    Actor,
    Campaign,
    CampaignStatus,
    Contact,
    Message,
    MessageStatus,
    Sender,
    SkipReason,
)
from goteo.phones import mask_phone
from goteo.schedule import end_of_day
from goteo.transports import ConnectionStatus
from goteo.transports.config import senders_using
from goteo.webhooks.events import (
    DELIVERED,
    FAILED,
    READ,
    AccountAlert,
    Event,
    Inbound,
    Receipt,
    StopPromotions,
)

log = logging.getLogger(__name__)

DEFAULT_OPT_OUT_WORDS = ("BAJA", "STOP", "NO MAS", "CANCELAR", "DESUSCRIBIR")
MAX_OPT_OUT_WORDS = 5  # a longer message is a conversation, not a request to leave
RANK = {"": 0, "sent": 1, "delivered": 2, "read": 3}
# The funnel's steps a receipt moves: the message's time of each, and the receipts that reach it.
FUNNEL_STEPS = {"delivered": ("delivered_at", (DELIVERED, READ)), "read": ("read_at", (READ,))}
# Error codes in a "failed" receipt and what they call for, by the provider that sends them
# (Meta's in ``statuses[].errors[].code``, Twilio's in the callback's ``ErrorCode``; a Twilio
# callback never carries Meta's codes, it maps them to its own 63xxx).
# Brake the number: Meta's spam and quality limits (131048, 131064); Twilio's locked account
# (63051, Meta's 131031) and its channel rate limit (63018), which is where Twilio's
# error-code mapping (twilio.com/docs/whatsapp/api/error-code-mapping) puts WhatsApp's 429 and
# its 471 spam rate limit, with the advice to wait 24 hours (twilio.com/docs/api/errors/63018).
BRAKE_CODES = {"cloud": frozenset({"131048", "131064"}), "twilio": frozenset({"63051", "63018"})}
# Of those, the brakes that last 24 hours rather than to the end of the number's day.
DAY_BRAKE_CODES = {"twilio": frozenset({"63018"})}
# The person opted out or blocked the business (Twilio 63014): opted out.
OPT_OUT_CODES = {"cloud": frozenset({"131050"}), "twilio": frozenset({"21610", "63014"})}
# Daily limits: the message is tried again tomorrow.
TRY_TOMORROW_CODES = {"cloud": frozenset({"131049"}), "twilio": frozenset({"63049", "63018"})}
NONE: frozenset[str] = frozenset()


@dataclass
class Outcome:
    """What handling one webhook did."""

    receipts: int = 0
    resolved: int = 0
    opted_out: list[str] = field(default_factory=list)
    braked: list[str] = field(default_factory=list)
    lifted: list[str] = field(default_factory=list)


def handle_events(events: list[Event], backend: str, now: datetime) -> Outcome:
    """Apply a webhook's events; ``backend`` names the provider that sent them."""
    from goteo import inbound  # it builds on this module's opt-outs and senders

    outcome = Outcome()
    for event in events:
        if isinstance(event, Receipt):
            apply_receipt(event, backend, now, outcome)
        elif isinstance(event, Inbound):
            inbound.receive(event, backend, now, outcome)
        elif isinstance(event, StopPromotions):
            inbound.stop_promotions(event, backend, now, outcome)
        elif isinstance(event, AccountAlert):
            apply_alert(event, backend, now, outcome)
    return outcome


# --- delivery receipts ---------------------------------------------------------------------
def find_message(receipt: Receipt, backend: str = "") -> Message | None:
    """The message a receipt is about: by our uuid first, then by the provider's id."""
    try:
        our_id = uuid.UUID(receipt.message_uuid) if receipt.message_uuid else None
    except ValueError:
        our_id = None
    if our_id is not None:
        found = Message.objects.filter(uuid=our_id).first()
        if found is not None:
            return found
    provider_id = receipt.provider_id
    if not provider_id:
        return None
    match = Q(provider_message_id=provider_id)
    if backend == "waha":
        # WAHA answers with a short id on some engines and "true_<chat>_<id>" on others.
        short = provider_id.rsplit("_", 1)[-1]
        match |= Q(provider_message_id=short) | Q(provider_message_id__endswith=f"_{short}")
    return Message.objects.filter(match).order_by("-id").first()


def apply_receipt(receipt: Receipt, backend: str, now: datetime, outcome: Outcome) -> None:
    """Record a delivery state; an unknown message the provider confirms becomes sent."""
    message = find_message(receipt, backend)
    if message is None:
        log.info("receipt %s for a message goteo does not know; ignored", receipt.status)
        return
    outcome.receipts += 1
    at = receipt.at or now
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if receipt.status == FAILED:
            record_delivery_failure(message, receipt, backend, at, now, outcome)
            return
        if message.status == MessageStatus.UNKNOWN:
            resolve_as_sent(message, receipt, backend, at, now)
            outcome.resolved += 1
        advance_delivery(message, receipt, at)


def advance_delivery(message: Message, receipt: Receipt, at: datetime) -> None:
    """Move the delivery state forward only; keep the earliest time of each step.

    The first time a message is delivered (or read: a "read" without a "delivered" counts
    both) it is counted in its campaign's funnel, in this transaction.
    """
    fields: dict[str, object] = {}
    current = message.delivery_status
    if current != FAILED and RANK.get(receipt.status, 0) > RANK.get(current, 0):
        fields["delivery_status"] = receipt.status
    counted = []
    for step, (at_field, reached_by) in FUNNEL_STEPS.items():
        earlier = getattr(message, at_field)
        if receipt.status in reached_by and (earlier is None or at < earlier):
            fields[at_field] = at
            if earlier is None:  # the message is locked: no other receipt counts it meanwhile
                counted.append(step)
    if receipt.provider_id and not message.provider_message_id:
        fields["provider_message_id"] = receipt.provider_id[:128]
    if fields:
        Message.objects.filter(pk=message.pk).update(**fields)
    if counted:
        # A simulation's messages never reached anyone: they are in no funnel.
        Campaign.objects.filter(pk=message.campaign_id, simulation=False).update(
            **{f"{step}_count": F(f"{step}_count") + 1 for step in counted}
        )


def resolve_as_sent(message: Message, receipt: Receipt, backend: str, at: datetime, now: datetime) -> None:
    Message.objects.filter(pk=message.pk, status=MessageStatus.UNKNOWN).transition(
        MessageStatus.SENT,
        actor=Actor.RECEIPT,
        by=f"webhook:{backend}",
        now=now,
        detail=f"el proveedor confirmó el mensaje ({receipt.status})",
        sent_at=message.sent_at or at,
        finished_at=message.finished_at or now,
        last_error="",
    )


def record_delivery_failure(
    message: Message,
    receipt: Receipt,
    backend: str,
    at: datetime,
    now: datetime,
    outcome: Outcome,
) -> None:
    """A "failed" receipt: accepted by the provider but not delivered."""
    code = receipt.error_code
    opt_out_codes = OPT_OUT_CODES.get(backend, NONE)
    reason = (
        "WhatsApp no entregó el mensaje"
        + (f" [{code}]" if code else "")
        + (f": {receipt.error}" if receipt.error else "")
    )
    if message.delivery_status in (DELIVERED, READ):
        return  # a late or replayed failure cannot undo a delivery
    Message.objects.filter(pk=message.pk).update(delivery_status=FAILED, last_error=reason[:2000])
    campaign = Campaign.objects.select_related("sender").get(pk=message.campaign_id)
    # The message in the status it was read (and locked) in.
    this, by = Message.objects.filter(pk=message.pk, status=message.status), f"webhook:{backend}"
    in_doubt = (MessageStatus.UNKNOWN, MessageStatus.SENT)
    if (
        code in TRY_TOMORROW_CODES.get(backend, NONE)
        and message.status in in_doubt
        and can_retry(message, campaign)
    ):
        retry_at = at + timedelta(hours=24, minutes=10)
        this.transition(
            MessageStatus.PENDING,
            actor=Actor.RECEIPT,
            by=by,
            now=now,
            detail=f"{reason}; se reintenta desde {retry_at.isoformat()}",
            next_attempt_at=retry_at,
            delivery_status="",
            finished_at=None,
        )
    elif message.status == MessageStatus.UNKNOWN:
        to_status = MessageStatus.SKIPPED if code in opt_out_codes else MessageStatus.FAILED
        extra: dict[str, Any] = {"skip_reason": SkipReason.OPTED_OUT} if code in opt_out_codes else {}
        this.transition(
            to_status,
            actor=Actor.RECEIPT,
            by=by,
            now=now,
            detail=reason,
            finished_at=message.finished_at or now,
            **extra,
        )
    if code in opt_out_codes and message.phone:
        opt_out_phone(message.phone, "WhatsApp", now, outcome)
    if code in DAY_BRAKE_CODES.get(backend, NONE):
        limited = f"WhatsApp limitó el número por enviar demasiados mensajes; no se envía nada durante 24 horas ({reason})"
        brake(campaign.sender, limited, now, outcome, until=now + timedelta(hours=24))
    elif code in BRAKE_CODES.get(backend, NONE):
        brake(campaign.sender, reason, now, outcome)


def can_retry(message: Message, campaign: Campaign) -> bool:
    """Whether a message refused for today may be tried again later in its campaign."""
    open_campaign = campaign.status in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
    return open_campaign and message.attempts < campaign.max_attempts


# --- opt-outs ------------------------------------------------------------------------------
def opt_out_words() -> list[str]:
    """The words that mean "no more promotions" (GOTEO_OPT_OUT_WORDS, comma-separated)."""
    raw = env_str("GOTEO_OPT_OUT_WORDS")
    words = [w.strip() for w in raw.split(",")] if raw else list(DEFAULT_OPT_OUT_WORDS)
    return [w for w in words if normalize(w)]


def normalize(text: str) -> str:
    """Lower case, accents and punctuation removed: ``"¡No MÁS!"`` -> ``"no mas"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).replace("_", " ").split())


def is_opt_out(text: str, words: list[str] | None = None) -> bool:
    """Whether a short message asks to stop: one of the words, alone or in a few words."""
    said = normalize(text).split()
    if not said or len(said) > MAX_OPT_OUT_WORDS:
        return False
    for word in words if words is not None else opt_out_words():
        wanted = normalize(word).split()
        size = len(wanted)
        if any(said[i : i + size] == wanted for i in range(len(said) - size + 1)):
            return True
    return False


def phone_candidates(phone: str) -> list[str]:
    """The ways a WhatsApp id may be stored as E.164 (Mexico's old 521, Brazil's 9th digit)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    found = [f"+{digits}"]
    if digits.startswith("521") and len(digits) == 13:
        found.append(f"+52{digits[3:]}")
    if digits.startswith("55") and len(digits) == 12:
        found.append(f"+{digits[:4]}9{digits[4:]}")
    return found


def opt_out_phone(phone: str, source: str, now: datetime, outcome: Outcome | None = None) -> int:
    """Opt out every contact with ``phone`` and skip what is pending for that number.

    Returns how many pending messages were skipped.
    """
    phones = phone_candidates(phone)
    skipped = 0
    with transaction.atomic():
        for contact in Contact.objects.filter(phone__in=phones):
            skipped += contact.opt_out(source, now)
        skipped += Message.objects.filter(phone__in=phones).skip_pending(SkipReason.OPTED_OUT, now, by=source)
    log.info("opt-out from %s (%s): %d pending skipped", mask_phone(phone), source, skipped)
    if outcome is not None:
        outcome.opted_out.append(phone)
    return skipped


# --- the number's standing -----------------------------------------------------------------
def apply_alert(alert: AccountAlert, backend: str, now: datetime, outcome: Outcome) -> None:
    """Remember a connection change and brake on a ban or quality signal.

    A session that closed without a logout or ban reason is only remembered as down: sending
    waits until it is back, and nothing is braked.
    """
    from goteo import health

    for sender in find_senders(backend, alert.account):
        if alert.connected is not None:
            health.remember(sender, ConnectionStatus(alert.connected, alert.reason), now)
        elif alert.recheck:
            health.forget(sender)
        if alert.session_closed and health.unlinked_recently(sender, now):
            continue  # the owner disconnected it from the dashboard: no ban sign
        if alert.lifts:
            lift_provider_brake(sender, alert, now, outcome)
        elif alert.brake:
            brake(sender, alert.reason, now, outcome)


def lift_provider_brake(sender: Sender, alert: AccountAlert, now: datetime, outcome: Outcome) -> None:
    """Lift an automatic brake the provider has taken back (Meta reinstating an account).

    A brake for any other reason, or one a person set, is left for a person.
    """
    sender.refresh_from_db(fields=["paused_until", "pause_reason", "brake_log"])
    if not sender.is_braked(now) or alert.lifts not in sender.pause_reason:
        return
    if sender.lift_brake(f"{alert.reason}"[:100], now=now):
        log.warning("sender %s: brake lifted by its provider: %s", sender.name, alert.reason)
        outcome.lifted.append(sender.name)


def brake(
    sender: Sender,
    reason: str,
    now: datetime,
    outcome: Outcome | None = None,
    *,
    until: datetime | None = None,
) -> None:
    """Stop ``sender`` until the end of its day (or ``until``, when later) and pause its
    campaigns, once: a brake already lasting as long is left as it is."""
    end = max(until, end_of_day(now, sender.tz)) if until else end_of_day(now, sender.tz)
    sender.refresh_from_db(fields=["paused_until", "pause_reason"])
    if sender.is_braked(now) and sender.paused_until is not None and sender.paused_until >= end:
        return
    log.warning("sender %s braked: %s", sender.name, reason)
    sender.brake(f"Freno automático: {reason}"[:300], end)
    if outcome is not None:
        outcome.braked.append(sender.name)


def find_senders(backend: str, account: dict[str, str]) -> list[Sender]:
    """The senders an event is about, by the ids it carries.

    An id no sender is configured with (e.g. a display number not yet seen) falls back to
    every sender on the provider; an id some sender has but none matches is not ours.
    """
    candidates = senders_using(backend)
    wanted = {key: value for key, value in account.items() if value}
    if not wanted:
        return [sender for sender, _config in candidates]
    known = [
        (sender, config)
        for sender, config in candidates
        if any(account_value(sender, config, key) for key in wanted)
    ]
    if not known:
        return [sender for sender, _config in candidates]
    return [
        sender
        for sender, config in known
        if any(same_id(account_value(sender, config, key), value) for key, value in wanted.items())
    ]


def account_value(sender: Sender, config: dict[str, object], key: str) -> str:
    if key == "display_phone_number":
        extra = (sender.health or {}).get("extra") or {}
        return str(config.get(key) or extra.get(key) or "")
    return str(config.get(key) or "")


def same_id(ours: str, theirs: str) -> bool:
    if not ours:
        return False
    if any(ch.isdigit() for ch in ours) and not any(ch.isalpha() for ch in ours):
        return "".join(filter(str.isdigit, ours)) == "".join(filter(str.isdigit, theirs))
    return ours == theirs
