"""Queued replies: sent once, by the run, within the number's pacing, cap and brakes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import transaction

from goteo import replies
from goteo.models import DailyCounter, InboundMessage, Reply, ReplyStatus, Sender
from goteo.sending import Engine
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "+573001112233"


@pytest.fixture(autouse=True)
def _reply_text(monkeypatch):
    monkeypatch.setenv("GOTEO_OPT_OUT_REPLY", "Listo, no recibirá más promociones.")


def queued(sender: Sender, now, n: int = 1) -> Reply:
    message = InboundMessage.objects.create(
        provider="memory",
        provider_message_id=f"in-{n}",
        sender_ref=PHONE,
        sender=sender,
        phone=PHONE,
        text="BAJA",
        is_opt_out=True,
        received_at=now,
    )
    reply = replies.queue_confirmation(message, now)
    assert reply is not None
    return reply


def test_the_run_sends_a_queued_confirmation_once(memory_sender, clock):
    queued(memory_sender, clock.now())

    Engine(clock).run()
    Engine(clock).run()

    assert [(m.to, m.text) for m in MemoryTransport.outbox] == [
        (PHONE, "Listo, no recibirá más promociones.")
    ]
    assert Reply.objects.get().status == ReplyStatus.SENT


def test_a_reply_counts_against_the_daily_cap_and_waits_when_it_is_full(memory_sender, clock):
    now = clock.now()
    day = memory_sender.local_day(now)
    memory_sender.daily_cap = 1
    memory_sender.save()
    DailyCounter.reserve(memory_sender.counter_scope, day, 1)  # the day's only slot is taken
    reply = queued(memory_sender, now)

    assert replies.send_due(now) == 0

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.PENDING
    assert DailyCounter.used_on(memory_sender.counter_scope, day) == 1
    assert MemoryTransport.outbox == []


def test_a_braked_number_sends_no_reply(memory_sender, clock):
    now = clock.now()
    memory_sender.brake("prueba", now + timedelta(hours=3), now=now)
    queued(memory_sender, now)

    assert replies.send_due(now) == 0
    assert MemoryTransport.outbox == []


def test_a_reply_after_whatsapps_24_hour_window_is_dropped_with_a_note(memory_sender, clock):
    now = clock.now()
    reply = queued(memory_sender, now)
    notes: list[str] = []

    replies.send_due(now + timedelta(hours=24, seconds=1), report=notes.append)

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.EXPIRED
    assert MemoryTransport.outbox == []
    assert notes == ["Nota: la confirmación de baja a +57300****233 venció sin enviarse."]


def test_a_reply_that_may_have_gone_out_is_never_sent_again(memory_sender, clock):
    now = clock.now()
    reply = queued(memory_sender, now)

    def timeout(message):
        raise SendError(SendError.UNKNOWN, "sin respuesta")

    MemoryTransport.script = timeout
    replies.send_due(now)
    MemoryTransport.script = None
    replies.send_due(now + timedelta(hours=1))

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.UNKNOWN
    assert MemoryTransport.outbox == []


def test_a_reply_not_sent_goes_back_to_the_queue_with_its_slot(memory_sender, clock):
    now = clock.now()
    reply = queued(memory_sender, now)
    MemoryTransport.connected = False

    replies.send_due(now)

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.PENDING and reply.next_attempt_at > now
    assert DailyCounter.used_on(memory_sender.counter_scope, memory_sender.local_day(now)) == 0
    MemoryTransport.connected = True
    assert replies.send_due(reply.next_attempt_at + timedelta(minutes=1)) == 1


def test_a_claim_left_by_a_dead_process_becomes_unknown_not_resent(memory_sender, clock):
    now = clock.now()
    reply = queued(memory_sender, now)
    assert replies.claim(reply, memory_sender, now) is not None  # then the process died

    replies.send_due(now + replies.STALE_SENDING + timedelta(seconds=1))

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.UNKNOWN
    assert MemoryTransport.outbox == []


def broken_claim(reply: Reply, sender: Sender, now) -> uuid.UUID | None:
    """The claim without its compare-and-set on the reply's status."""
    token = uuid.uuid4()
    with transaction.atomic():
        Reply.objects.filter(pk=reply.pk).update(
            status=ReplyStatus.SENDING, claim_token=token, claimed_at=now
        )
    return token


@pytest.mark.parametrize(("claim", "winners"), [(replies.claim, 1), (broken_claim, 2)])
def test_two_workers_that_read_the_same_reply_claim_it_once(memory_sender, clock, claim, winners):
    now = clock.now()
    reply = queued(memory_sender, now)
    first_read, second_read = Reply.objects.get(pk=reply.pk), Reply.objects.get(pk=reply.pk)

    tokens = [claim(first_read, memory_sender, now)]
    Sender.objects.filter(pk=memory_sender.pk).update(next_send_at=None)  # pacing aside
    tokens.append(claim(second_read, memory_sender, now))

    # Only the real claim keeps the second worker out; the broken variant lets both in.
    assert len([t for t in tokens if t]) == winners


def test_an_inbound_message_queues_at_most_one_reply(memory_sender, clock):
    now = clock.now()
    reply = queued(memory_sender, now)

    again = replies.queue_confirmation(reply.inbound, now)

    assert again == reply
    assert Reply.objects.count() == 1


def test_the_worker_sends_a_queued_confirmation(memory_sender, clock):
    from goteo.worker import Worker

    queued(memory_sender, clock.now())
    lines: list[str] = []

    Worker(clock, threads=0, exit_when_idle=True, report=lines.append).run()

    assert [m.to for m in MemoryTransport.outbox] == [PHONE]
    assert "✔ pruebas: confirmación de baja enviada a +57300****233" in lines
