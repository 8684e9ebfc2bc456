"""Provider faults through the real HTTP client: no duplicate, and the right state for each.

The ledger provider delivers and then times out, answers 500 or drops the connection
(the message may have gone out: ``unknown``, never retried), throttles with 429 (not
sent: back to pending with a backoff and the day's slot given back), or rejects the
number (``failed``). Connection refused means nothing left: pending again.
"""

import socket

import pytest
from django.utils import timezone

from goteo.clock import SimulatedClock
from goteo.models import DailyCounter, Message, MessageStatus
from goteo.sending import Engine
from goteo.worker import Worker
from tests.chaos.ledger import (
    DROP,
    ERROR500,
    OK,
    REJECT,
    STALL,
    THROTTLE,
    LedgerServer,
    always,
    ledger_factory,
)
from tests.chaos.scenario import broken_promises, ledger_sender, open_campaigns

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def drain(clock: SimulatedClock) -> None:
    """A worker run until nothing more can be sent (in the main thread, simulated time)."""
    worker = Worker(
        clock, threads=0, transport_factory=ledger_factory, rescan_seconds=30, exit_when_idle=True
    )
    assert worker.run() == 0


def by_phone(modes: dict[str, str]):
    return lambda payload, tries: modes.get(payload["to"], OK)


def phones() -> list[str]:
    return list(Message.objects.order_by("id").values_list("phone", flat=True))


def used_today(sender, clock) -> int:
    return DailyCounter.used_on(sender.counter_scope, sender.local_day(clock.now()))


def test_it_marks_ambiguous_outcomes_unknown_and_never_sends_them_again():
    clock = SimulatedClock(timezone.now())
    with LedgerServer(stall_seconds=2.0) as ledger:
        sender = ledger_sender(ledger.url, timeout=0.5)
        open_campaigns(sender, 4)
        stalled, failed, dropped, fine = phones()
        ledger.plan = by_phone({stalled: STALL, failed: ERROR500, dropped: DROP})
        drain(clock)
        status = dict(Message.objects.values_list("phone", "status"))
        assert [status[p] for p in (stalled, failed, dropped, fine)] == [
            "unknown",
            "unknown",
            "unknown",
            "sent",
        ]
        tries = sum(ledger.tries.values())

        ledger.plan = always(OK)
        drain(clock)
        Engine(clock, transport_factory=ledger_factory).run()  # a cron run does not either
        assert sum(ledger.tries.values()) == tries
    assert dict(ledger.deliveries) == {p: 1 for p in (stalled, failed, dropped, fine)}
    assert used_today(sender, clock) == 4  # an unknown message keeps its slot
    assert broken_promises(ledger, clock.now()) == []


def test_it_rides_out_a_storm_of_429_without_sending_twice():
    clock = SimulatedClock(timezone.now())
    with LedgerServer(lambda payload, tries: THROTTLE if tries < 2 else OK) as ledger:
        sender = ledger_sender(ledger.url)
        open_campaigns(sender, 5)
        drain(clock)
    assert ledger.modes[THROTTLE] == 10 and ledger.duplicates() == {}
    assert set(Message.objects.values_list("status", "attempts")) == {("sent", 3)}
    assert used_today(sender, clock) == 5  # the throttled attempts gave their slots back
    assert broken_promises(ledger, clock.now()) == []


def test_it_fails_a_message_throttled_on_every_attempt_and_gives_back_its_slot():
    clock = SimulatedClock(timezone.now())
    with LedgerServer(always(THROTTLE)) as ledger:
        sender = ledger_sender(ledger.url)
        open_campaigns(sender, 3)
        drain(clock)
    assert ledger.total() == 0
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.FAILED}
    assert used_today(sender, clock) == 0


def test_it_fails_a_rejected_number_once():
    clock = SimulatedClock(timezone.now())
    with LedgerServer() as ledger:
        sender = ledger_sender(ledger.url)
        open_campaigns(sender, 2)
        rejected, fine = phones()
        ledger.plan = by_phone({rejected: REJECT})
        drain(clock)
    status = dict(Message.objects.values_list("phone", "status"))
    assert (status[rejected], status[fine]) == ("failed", "sent")
    assert ledger.tries[str(Message.objects.get(phone=rejected).uuid)] == 1


def test_it_puts_a_message_back_when_the_connection_is_refused():
    clock = SimulatedClock(timezone.now())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{probe.getsockname()[1]}"
    sender = ledger_sender(nowhere)
    open_campaigns(sender, 1)
    worker = Worker(clock, threads=0, transport_factory=ledger_factory, exit_when_idle=True)
    worker.rescan_seconds = 30
    worker.run()
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and message.attempts == 3
    assert "no se pudo conectar" in message.last_error
    assert used_today(sender, clock) == 0
