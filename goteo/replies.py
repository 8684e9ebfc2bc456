"""Replies goteo owes people (the opt-out confirmation), queued by the web, sent by the worker.

The web process never sends: a webhook queues at most one reply per inbound message (a
unique row), and ``process_campaigns`` or the worker sends it within the number's rules:

* pacing: the reply waits for the number's next allowed send and pushes it by the pause of
  its campaigns, as a promotion would;
* the number's daily cap counts it: a confirmation is a message from the number;
* a braked number sends nothing, replies included;
* business hours and working days do not apply: the person just wrote, and the reply
  answers them; it must go within WhatsApp's 24-hour customer service window, after which
  it is dropped ("vencida") with a log line rather than sent as an unsolicited message.

A reply is claimed like a campaign message (the sender's pacing, then its day's slot, then
the reply's row, in one transaction), so two workers never send it twice. A reply whose
send may have gone out is "sin confirmar" and never retried.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max, Q

from goteo.conf import env_str
from goteo.models import CampaignStatus, DailyCounter, InboundMessage, Reply, ReplyStatus, Sender
from goteo.phones import mask_phone
from goteo.transports import ConfigurationError, OutgoingMessage, SendError, Transport, transport_for

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)  # WhatsApp's customer service window after a person writes
STALE_SENDING = timedelta(minutes=10)  # a claim older than this died with its process
RETRY_AFTER = timedelta(minutes=2)
DEFAULT_PAUSE_SECONDS = 10  # a new campaign's pause between messages
JITTER = 0.3


def confirmation_text() -> str:
    """The confirmation sent after an opt-out (GOTEO_OPT_OUT_REPLY); empty sends none."""
    return env_str("GOTEO_OPT_OUT_REPLY")


def queue_confirmation(message: InboundMessage, now: datetime) -> Reply | None:
    """Queue the opt-out confirmation for ``message``, once, if one is configured."""
    text = confirmation_text()
    if not text or not message.phone:
        return None
    if message.sender_id is None:
        log.warning("no number to confirm the opt-out of %s from", mask_phone(message.phone))
        return None
    received = message.received_at or now
    try:
        with transaction.atomic():
            reply, _created = Reply.objects.get_or_create(
                inbound=message,
                defaults={
                    "sender_id": message.sender_id,
                    "phone": message.phone,
                    "text": text,
                    "created_at": now,
                    "send_by": max(received, now - WINDOW) + WINDOW,
                },
            )
    except IntegrityError:  # the same message queued at the same moment elsewhere
        return Reply.objects.filter(inbound=message).first()
    return reply


# --- sending -------------------------------------------------------------------------------
def send_due(
    now: datetime,
    *,
    transport_factory: Callable[[Sender], Transport] = transport_for,
    report: Callable[[str], None] | None = None,
) -> int:
    """Send the replies that may go now; returns how many were sent."""
    say = report or (lambda line: None)
    expire(now, say)
    sweep_stale(now)
    due = Reply.objects.filter(status=ReplyStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    sent = 0
    for sender in Sender.objects.filter(pk__in=due.values("sender_id"), is_active=True):
        if sender.is_braked(now):
            continue
        waiting = due.filter(sender=sender).order_by("created_at", "id")
        try:
            sent += send_for_sender(sender, waiting, now, transport_factory, say)
        except DatabaseError:
            raise  # the run's own handling: the database is down for everyone
        except Exception:  # one number's fault must not stop the run's sending
            log.exception("replies from %s stopped", sender.name)
            say(
                f"✖ {sender.name}: las confirmaciones de baja se detuvieron por un error inesperado (ver el registro)."
            )
    return sent


def send_for_sender(
    sender: Sender,
    replies: Iterable[Reply],
    now: datetime,
    transport_factory: Callable[[Sender], Transport],
    say: Callable[[str], None],
) -> int:
    """Send ``sender``'s waiting replies in order until one cannot go; returns how many were sent."""
    transport: Transport | None = None
    sent = 0
    try:
        for reply in replies:
            token = claim(reply, sender, now)
            if token is None:
                break  # the number's pacing or its cap: the rest wait too
            if transport is None:
                try:
                    transport = transport_factory(sender)
                except ConfigurationError as exc:
                    give_back(reply, token, now, str(exc))
                    say(f"✖ {sender.name}: no se envió la confirmación de baja: {exc}")
                    break
            if deliver(reply, token, sender, transport, now, say):
                sent += 1
            else:
                break
    finally:
        if transport is not None:
            transport.close()
    return sent


def pause_seconds(sender: Sender) -> float:
    """The pause a reply leaves before the number's next send: its campaigns' longest."""
    delay = sender.campaigns.filter(status=CampaignStatus.ACTIVE).aggregate(d=Max("delay_seconds"))["d"]
    base = DEFAULT_PAUSE_SECONDS if delay is None else delay
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def claim(reply: Reply, sender: Sender, now: datetime) -> uuid.UUID | None:
    """Pace the number, take its day's slot and claim the reply, or none of them."""
    day = sender.local_day(now)
    token = uuid.uuid4()
    with transaction.atomic():
        free = Q(next_send_at__isnull=True) | Q(next_send_at__lte=now)
        unbraked = Q(paused_until__isnull=True) | Q(paused_until__lte=now)
        until = now + timedelta(seconds=pause_seconds(sender))
        paced = Sender.objects.filter(free, unbraked, pk=sender.pk, is_active=True).update(next_send_at=until)
        if not paced:
            transaction.set_rollback(True)
            return None
        if not DailyCounter.reserve(sender.counter_scope, day, sender.cap_on(day)):
            transaction.set_rollback(True)
            log.info("reply %s waits: %s reached its daily cap", reply.pk, sender.name)
            return None
        taken = Reply.objects.filter(pk=reply.pk, status=ReplyStatus.PENDING).update(
            status=ReplyStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=reply.attempts + 1,
        )
        if not taken:
            transaction.set_rollback(True)
            return None
    return token


def deliver(
    reply: Reply,
    token: uuid.UUID,
    sender: Sender,
    transport: Transport,
    now: datetime,
    say: Callable[[str], None],
) -> bool:
    """Send one claimed reply and record what happened; False when the number must stop."""
    mine = Reply.objects.filter(pk=reply.pk, status=ReplyStatus.SENDING, claim_token=token)
    try:
        provider_id = transport.send(OutgoingMessage(reply.phone, reply.text, f"respuesta-{reply.pk}"))
    except SendError as exc:
        log.warning("reply to %s: %s", mask_phone(reply.phone), exc)
        if exc.kind == SendError.UNKNOWN:
            mine.update(status=ReplyStatus.UNKNOWN, last_error=str(exc)[:2000])
            return True
        if exc.kind == SendError.PERMANENT:
            release(sender, reply, now)
            mine.update(status=ReplyStatus.FAILED, last_error=str(exc)[:2000])
            return True
        give_back(reply, token, now, str(exc))
        if exc.kind == SendError.BRAKE:
            from goteo.receipts import brake

            brake(sender, exc.reason, now, until=exc.brake_until(now, sender.tz))
        say(f"✖ {sender.name}: la confirmación de baja espera: {exc.reason}")
        return False
    mine.update(
        status=ReplyStatus.SENT, sent_at=now, provider_message_id=str(provider_id or "")[:128], last_error=""
    )
    say(f"✔ {sender.name}: confirmación de baja enviada a {mask_phone(reply.phone)}")
    return True


def release(sender: Sender, reply: Reply, now: datetime) -> None:
    """Give back the day's slot of a reply that definitely did not go out."""
    DailyCounter.release(sender.counter_scope, sender.local_day(now))


def give_back(reply: Reply, token: uuid.UUID, now: datetime, error: str) -> None:
    """A reply not sent: back to pending for a later try, its slot given back."""
    sender = Sender.objects.get(pk=reply.sender_id)
    with transaction.atomic():
        # The slot first, then the reply: the order a claim takes them in, so a claim and
        # this never wait on each other in a circle (PostgreSQL).
        release(sender, reply, now)
        moved = Reply.objects.filter(pk=reply.pk, status=ReplyStatus.SENDING, claim_token=token).update(
            status=ReplyStatus.PENDING, next_attempt_at=now + RETRY_AFTER, last_error=error[:2000]
        )
        if not moved:  # no longer ours: its slot was not ours to give back either
            transaction.set_rollback(True)


def expire(now: datetime, say: Callable[[str], None]) -> int:
    """Pending replies past WhatsApp's window are dropped, each with a log line."""
    late = Reply.objects.filter(status=ReplyStatus.PENDING, send_by__lte=now)
    count = 0
    for reply in late:
        if Reply.objects.filter(pk=reply.pk, status=ReplyStatus.PENDING).update(
            status=ReplyStatus.EXPIRED, last_error="pasaron 24 horas desde el mensaje de la persona"
        ):
            count += 1
            log.warning("opt-out confirmation to %s expired unsent", mask_phone(reply.phone))
            say(f"Nota: la confirmación de baja a {mask_phone(reply.phone)} venció sin enviarse.")
    return count


def sweep_stale(now: datetime) -> int:
    """A claim left by a process that died: it may have gone out, so it is never resent."""
    return Reply.objects.filter(status=ReplyStatus.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        status=ReplyStatus.UNKNOWN, last_error="el envío se interrumpió; puede que haya salido"
    )
