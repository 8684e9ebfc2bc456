"""Messages people write to us: store each one, tie it to a person, act on an opt-out.

WhatsApp names more and more people by a hidden id ("4639135154355@lid") instead of their
phone. The sender is resolved, in order, from the payload's own phone (or its alternate
fields), through WAHA's lids lookup, and through a hidden id goteo learned before. A
message that still cannot be tied to a phone is stored and listed in the dashboard
("mensajes sin identificar") until a person matches it: an opt-out is never dropped.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from goteo import attribution, replies
from goteo.models import Contact, InboundMessage, Sender, WhatsAppLid
from goteo.phones import mask_phone
from goteo.webhooks.events import Inbound, StopPromotions, lid_from, phone_from

if TYPE_CHECKING:  # receipts imports this module
    from goteo.receipts import Outcome

log = logging.getLogger(__name__)

# How a message's sender was tied to a phone (InboundMessage.matched_by).
BY_PHONE, BY_ALT_FIELD, BY_LOOKUP, BY_REMEMBERED, BY_PERSON = (
    "telefono",
    "campo_alterno",
    "consulta_waha",
    "id_recordado",
    "persona",
)
STOP_TEXT = "(pidió a WhatsApp dejar de recibir promociones)"


def mask_ref(ref: str) -> str:
    """A sender id for the logs: a phone masked, a hidden or user id cut short."""
    if phone_from(ref):
        return mask_phone(phone_from(ref))
    return ref[:4] + "…" if len(ref) > 4 else "…"


# --- hidden ids ----------------------------------------------------------------------------
def remember_lid(lid: str, phone: str, source: str, now: datetime) -> None:
    """Keep that ``lid`` belongs to ``phone`` (a later message may carry only the lid)."""
    lid, phone = lid_from(lid), phone_from(phone)
    if not lid or not phone:
        return
    updated = WhatsAppLid.objects.filter(lid=lid).exclude(phone=phone).update(phone=phone, source=source)
    if updated:
        return
    try:
        with transaction.atomic():
            WhatsAppLid.objects.get_or_create(
                lid=lid, defaults={"phone": phone, "source": source, "learned_at": now}
            )
    except IntegrityError:  # another request learned it at the same moment
        pass


def remembered_phone(lid: str) -> str:
    return WhatsAppLid.objects.filter(lid=lid).values_list("phone", flat=True).first() or ""


def knows_lid_of(phone: str) -> bool:
    return WhatsAppLid.objects.filter(phone=phone).exists()


def looked_up_phone(lid: str, senders: list[Sender]) -> str:
    """The phone behind ``lid`` as WAHA knows it (``GET /api/{session}/lids/{lid}``)."""
    from goteo.transports import transport_for
    from goteo.transports.config import ConfigurationError

    for sender in senders:
        try:
            transport = transport_for(sender)
        except ConfigurationError as exc:
            log.warning("no lid lookup through %s: %s", sender.name, exc)
            continue
        try:
            lookup = getattr(transport, "phone_for_lid", None)
            found = phone_from(lookup(lid)) if lookup else ""
        finally:
            transport.close()
        if found:
            return found
    return ""


def resolve(event: Inbound, backend: str, senders: list[Sender], now: datetime) -> tuple[str, str]:
    """The sender's phone and how it was found; ("", "") when nothing tells."""
    if event.phone:
        if event.lid:
            remember_lid(event.lid, event.phone, f"{backend}:mensaje", now)
        return event.phone, BY_PHONE if event.phone_source == "from" else BY_ALT_FIELD
    lid = event.lid or lid_from(event.sender_ref)
    if not lid:
        return "", ""
    if backend == "waha":
        found = looked_up_phone(lid, senders)
        if found:
            remember_lid(lid, found, "waha:consulta", now)
            return found, BY_LOOKUP
    found = remembered_phone(lid)
    return (found, BY_REMEMBERED) if found else ("", "")


# --- storing and acting --------------------------------------------------------------------
def fallback_id(ref: str, text: str, at: datetime | None) -> str:
    """An id for a message the provider sent without one, stable across its retries."""
    seed = f"{ref}|{text}|{at.isoformat() if at else ''}"
    return "sin-id-" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def contact_for(phone: str) -> Contact | None:
    from goteo.receipts import phone_candidates

    return Contact.objects.filter(phone__in=phone_candidates(phone)).order_by("id").first()


def store(
    backend: str,
    message_id: str,
    ref: str,
    text: str,
    at: datetime,
    sender: Sender | None,
    is_opt_out: bool,
) -> InboundMessage | None:
    """Store a message once; None when the provider already sent it (a retried webhook)."""
    try:
        with transaction.atomic():
            return InboundMessage.objects.create(
                provider=backend,
                provider_message_id=message_id[:191],
                sender_ref=ref[:128],
                sender=sender,
                text=text,
                is_opt_out=is_opt_out,
                received_at=at,
            )
    except IntegrityError:
        return None


def receive(event: Inbound, backend: str, now: datetime, outcome: Outcome) -> InboundMessage | None:
    """Store one inbound message, tie it to a person and apply an opt-out it asks for."""
    from goteo.receipts import find_senders, is_opt_out

    senders = find_senders(backend, event.account)
    ref = event.sender_ref or event.lid or event.phone
    message_id = event.message_id or fallback_id(ref, event.text, event.at)
    opting_out = bool(event.text) and is_opt_out(event.text)
    message = store(
        backend, message_id, ref, event.text, event.at or now, next(iter(senders), None), opting_out
    )
    if message is None:
        log.info("inbound message from %s (%s) already received; ignored", mask_ref(ref), backend)
        return None
    phone, how = resolve(event, backend, senders, now)
    if not phone:
        level = logging.WARNING if opting_out else logging.INFO
        log.log(
            level,
            "inbound %s from %s (%s) cannot be tied to a phone; kept for a person%s",
            message.pk,
            mask_ref(ref),
            backend,
            ": it asks to opt out" if opting_out else "",
        )
        return message
    identify(message, phone, how, now, outcome, by="goteo")
    return message


def identify(
    message: InboundMessage, phone: str, how: str, now: datetime, outcome: Outcome | None, by: str
) -> None:
    """Tie ``message`` to ``phone`` (and its contact); an opt-out applies and is confirmed, then
    the message is tied to the campaign it answers (goteo.attribution)."""
    from goteo.receipts import opt_out_phone

    contact = contact_for(phone)
    message.phone, message.contact, message.matched_by = phone, contact, how
    InboundMessage.objects.filter(pk=message.pk).update(phone=phone, contact=contact, matched_by=how)
    if message.is_opt_out:  # honoured first: nothing after this may keep it from applying
        opt_out_phone(phone, f"respuesta por {message.provider}", now, outcome)
        message.mark_handled(by, now)
        replies.queue_confirmation(message, now)
    try:
        attribution.attribute(message)
    except Exception:  # the message is stored and any opt-out applied: only its campaign is missing
        log.exception("inbound %s could not be tied to a campaign", message.pk)


def stop_promotions(event: StopPromotions, backend: str, now: datetime, outcome: Outcome) -> None:
    """WhatsApp's own "stop promotions": applied, or kept for a person without a phone."""
    from goteo.receipts import find_senders, opt_out_phone

    if event.phone:
        opt_out_phone(event.phone, "WhatsApp: detener promociones", now, outcome)
        return
    senders = find_senders(backend, event.account)
    message_id = fallback_id(event.sender_ref, "stop", now.replace(second=0, microsecond=0))
    stored = store(backend, message_id, event.sender_ref, STOP_TEXT, now, next(iter(senders), None), True)
    if stored is not None:
        log.warning("stop request from %s without a phone; kept for a person", mask_ref(event.sender_ref))


def match(message: InboundMessage, contact: Contact, by: str, now: datetime) -> None:
    """A person tied an unidentified message to ``contact``: remember it and act on it."""
    if not contact.phone:
        raise ValueError("el contacto no tiene teléfono")
    remember_lid(message.sender_ref, contact.phone, "persona", now)
    identify(message, contact.phone, BY_PERSON, now, None, by=by)
    # An opt-out is handled by applying it; any other message now waits in "Respuestas".


def dismiss(message: InboundMessage, by: str, now: datetime) -> None:
    """A person looked at an unidentified message and decided nothing is to be done."""
    message.mark_handled(by, now)
