"""The sending engine: the seed's week, caps, windows, retries, disconnects and crashes."""

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goteo.models import Campaign, DailyCounter, Message, MessageEvent, MessageStatus
from goteo.sending import Engine, RunSummary, Step
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db(transaction=True)


def run(clock, ids=None, **kw):
    return Engine(clock, max_wait=kw.pop("max_wait", 3600), **kw).run(ids)


def day(clock, y, m, d, hh=10):
    clock.set(datetime(y, m, d, hh, 0, tzinfo=BOGOTA))


def sent_phones():
    return [m.to for m in MemoryTransport.outbox]


def test_it_follows_the_seed_day_by_day(make_campaign, clock):
    campaign = make_campaign(100, daily_limit=20)
    table = []
    for d in [
        date(2026, 1, 2),
        date(2026, 1, 3),
        date(2026, 1, 4),
        date(2026, 1, 5),
        date(2026, 1, 6),
        date(2026, 1, 7),
        date(2026, 1, 8),
    ]:
        day(clock, d.year, d.month, d.day)
        run(clock)
        campaign.refresh_from_db()
        table.append((d.day, campaign.pending_count, campaign.sent_count, campaign.failed_count))
    assert table == [
        (2, 80, 20, 0),
        (3, 80, 20, 0),
        (4, 80, 20, 0),
        (5, 60, 40, 0),
        (6, 40, 60, 0),
        (7, 20, 80, 0),
        (8, 0, 100, 0),
    ]
    assert campaign.status == "completed"
    assert len(sent_phones()) == 100 == len(set(sent_phones()))
    # The first day's messages are the first twenty people, in order.
    first_day = Message.objects.filter(sent_at__date=date(2026, 1, 2)).order_by("id")
    assert list(first_day.values_list("id", flat=True)) == list(
        campaign.messages.order_by("id").values_list("id", flat=True)[:20]
    )


def test_it_never_sends_twice_across_repeated_runs(make_campaign, clock):
    make_campaign(30, daily_limit=30)
    for _ in range(5):
        run(clock)
        clock.advance(minutes=7)
    assert len(sent_phones()) == 30 == len(set(sent_phones()))
    run(clock)
    assert len(sent_phones()) == 30


def test_it_paces_messages_with_jitter(make_campaign, clock):
    make_campaign(5, delay_seconds=10, daily_limit=20)
    start = clock.now()
    times = []
    MemoryTransport.script = lambda m: times.append(clock.now())
    run(clock)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert times[0] == start
    assert len(gaps) == 4
    assert all(7 <= g <= 13 for g in gaps), gaps
    assert len({round(g, 3) for g in gaps}) > 1  # jittered, not fixed


def test_it_sends_back_to_back_with_zero_delay(make_campaign, clock):
    make_campaign(5, delay_seconds=0)
    start = clock.now()
    run(clock)
    assert len(sent_phones()) == 5
    assert clock.now() == start


def test_it_holds_the_senders_cap_across_campaigns(make_campaign, clock, memory_sender):
    memory_sender.daily_cap = 25
    memory_sender.save()
    a = make_campaign(20, daily_limit=20)
    b = make_campaign(20, daily_limit=20)
    run(clock)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.sent_count + b.sent_count == 25
    assert DailyCounter.used_on(memory_sender.counter_scope, date(2026, 1, 2)) == 25


def test_it_sends_nothing_outside_the_window(make_campaign, clock):
    make_campaign(5)
    clock.set(datetime(2026, 1, 2, 19, 0, tzinfo=BOGOTA))
    run(clock)
    clock.set(datetime(2026, 1, 3, 10, 0, tzinfo=BOGOTA))  # Saturday
    run(clock)
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=BOGOTA))  # holiday Monday
    run(clock)
    assert sent_phones() == []


def test_it_stops_at_the_window_end(make_campaign, clock):
    make_campaign(20, delay_seconds=60, daily_limit=20)
    clock.set(datetime(2026, 1, 2, 18, 57, 0, tzinfo=BOGOTA))
    run(clock)
    assert 2 <= len(sent_phones()) <= 4
    assert all(
        m.status != "sent" or m.sent_at.astimezone(BOGOTA).time() < time(19) for m in Message.objects.all()
    )


def test_it_retries_transient_failures_then_fails(make_campaign, clock):
    campaign = make_campaign(1, max_attempts=3)

    def throttled(message):
        raise SendError(SendError.RETRY, "demasiados mensajes", code="130429")

    MemoryTransport.script = throttled
    for _ in range(3):
        run(clock, max_wait=0)
        clock.advance(hours=1)
    message = campaign.messages.get()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 3
    assert "130429" in message.last_error
    # Slots of definitely-unsent messages are given back.
    assert DailyCounter.used_on(campaign.counter_scope, date(2026, 1, 2)) == 0


def test_it_waits_before_a_retry(make_campaign, clock):
    campaign = make_campaign(1)
    calls = []

    def once(message):
        calls.append(clock.now())
        if len(calls) == 1:
            raise SendError(SendError.RETRY, "conexión rechazada")

    MemoryTransport.script = once
    run(clock, max_wait=0)
    message = campaign.messages.get()
    assert message.status == MessageStatus.PENDING
    assert message.next_attempt_at == calls[0] + timedelta(seconds=60)
    run(clock, max_wait=0)
    assert len(calls) == 1  # still backing off
    clock.advance(seconds=61)
    run(clock, max_wait=0)
    assert campaign.messages.get().status == MessageStatus.SENT


def test_it_fails_permanent_errors_at_once(make_campaign, clock):
    campaign = make_campaign(2)

    def not_on_whatsapp(message):
        if message.to == campaign.messages.order_by("id").first().phone:
            raise SendError(SendError.PERMANENT, "no tiene WhatsApp", code="131026")

    MemoryTransport.script = not_on_whatsapp
    run(clock)
    first, second = campaign.messages.order_by("id")
    assert first.status == MessageStatus.FAILED and first.attempts == 1
    assert second.status == MessageStatus.SENT
    campaign.refresh_from_db()
    assert campaign.status == "completed"


def test_it_can_requeue_failed_messages(make_campaign, clock):
    campaign = make_campaign(1)

    def reject(message):
        raise SendError(SendError.PERMANENT, "número inválido")

    MemoryTransport.script = reject
    run(clock)
    MemoryTransport.script = None
    assert campaign.requeue_failed(clock.now()) == 1
    campaign.refresh_from_db()
    assert campaign.status == "active" and campaign.pending_count == 1
    run(clock)
    assert campaign.messages.get().status == MessageStatus.SENT


def test_a_disconnect_leaves_everything_pending(make_campaign, clock):
    campaign = make_campaign(5)
    MemoryTransport.connected = False
    summary = run(clock)
    assert not summary.ok
    assert "desconectado" in summary.disconnected[0]
    campaign.refresh_from_db()
    assert campaign.pending_count == 5
    assert set(campaign.messages.values_list("attempts", flat=True)) == {0}


def test_a_disconnect_mid_run_stops_and_keeps_the_rest_pending(make_campaign, clock):
    campaign = make_campaign(5)

    def drop_after_two(message):
        if len(MemoryTransport.outbox) == 2:
            raise SendError(SendError.DISCONNECTED, "sesión cerrada")

    MemoryTransport.script = drop_after_two
    summary = run(clock)
    campaign.refresh_from_db()
    assert not summary.ok
    assert (campaign.sent_count, campaign.pending_count) == (2, 3)
    assert set(campaign.messages.filter(status="pending").values_list("attempts", flat=True)) == {0}
    assert DailyCounter.used_on(campaign.counter_scope, date(2026, 1, 2)) == 2


def test_an_ambiguous_outcome_becomes_unknown_and_is_not_resent(make_campaign, clock):
    campaign = make_campaign(2)

    def time_out_first(message):
        if not MemoryTransport.outbox:
            MemoryTransport.outbox.append(message)  # it did go out
            raise SendError(SendError.UNKNOWN, "tiempo de espera agotado tras enviar")

    MemoryTransport.script = time_out_first
    run(clock)
    MemoryTransport.script = None
    for _ in range(3):
        clock.advance(days=1)
        run(clock)
    first = campaign.messages.order_by("id").first()
    assert first.status == MessageStatus.UNKNOWN
    assert sent_phones().count(first.phone) == 1


def test_a_crash_between_claim_and_result_leaves_unknown(make_campaign, clock, settings):
    campaign = make_campaign(3)
    engine = Engine(clock)
    sender = campaign.sender
    claim = engine.claim(sender, [campaign], clock.now())  # ... and the process dies here
    assert campaign.messages.get(pk=claim.message_id).status == MessageStatus.SENDING
    clock.advance(minutes=5)
    run(clock)  # lease not over: the claimed message is left alone
    assert campaign.messages.get(pk=claim.message_id).status == MessageStatus.SENDING
    clock.advance(minutes=6)
    summary = run(clock)
    message = campaign.messages.get(pk=claim.message_id)
    assert summary.swept == 1
    assert message.status == MessageStatus.UNKNOWN
    assert message.phone not in sent_phones()
    assert MessageEvent.objects.filter(message=message, to_status="unknown").exists()
    campaign.refresh_from_db()
    assert campaign.counts()["unknown"] == 1 and campaign.sent_count == 2


def test_a_late_result_after_the_sweep_is_recorded_as_sent(make_campaign, clock):
    campaign = make_campaign(1)
    engine = Engine(clock)
    claim = engine.claim(campaign.sender, [campaign], clock.now())
    clock.advance(minutes=11)
    engine.sweep_stale(clock.now())
    from goteo.sending import RunSummary

    engine.record_sent(claim, "wamid.late", RunSummary())
    message = campaign.messages.get()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == "wamid.late"
    campaign.refresh_from_db()
    assert (campaign.sent_count, campaign.unknown_count) == (1, 0)


def test_it_never_sends_after_the_promotion_expires(make_campaign, clock):
    campaign = make_campaign(50, valid_until=date(2026, 1, 5), daily_limit=20)
    run(clock)  # Friday
    day(clock, 2026, 1, 5)
    run(clock)  # Monday, last valid day
    day(clock, 2026, 1, 6)
    summary = run(clock)
    campaign.refresh_from_db()
    assert summary.expired == 10
    assert (campaign.sent_count, campaign.skipped_count, campaign.pending_count) == (40, 10, 0)
    assert campaign.status == "completed"
    assert set(campaign.messages.filter(status="skipped").values_list("skip_reason", flat=True)) == {
        "expired"
    }


def test_a_paused_campaign_does_not_send(make_campaign, clock):
    campaign = make_campaign(5)
    campaign.pause()
    run(clock)
    assert sent_phones() == []
    campaign.resume()
    run(clock)
    assert len(sent_phones()) == 5


def test_the_counters_always_match_the_table(make_campaign, clock):
    campaign = make_campaign(12)

    def mixed(message):
        n = len(MemoryTransport.outbox)
        if n % 4 == 1:
            raise SendError(SendError.PERMANENT, "inválido")
        if n % 4 == 2:
            raise SendError(SendError.UNKNOWN, "500")
        MemoryTransport.outbox.append(message)

    MemoryTransport.script = mixed
    run(clock)
    campaign.refresh_from_db()
    kept = campaign.counts()
    assert campaign.recount() == kept
    assert sum(kept[s] for s in ("pending", "sending", "sent", "failed", "skipped", "unknown")) == 12


def test_the_campaign_limit_holds_with_a_bigger_sender_cap(make_campaign, clock, memory_sender):
    memory_sender.daily_cap = 100
    memory_sender.save()
    campaign = make_campaign(50, daily_limit=7)
    run(clock)
    clock.advance(hours=2)
    run(clock)
    campaign.refresh_from_db()
    assert campaign.sent_count == 7
    assert Campaign.objects.get(pk=campaign.pk).pending_count == 43


def test_a_receipt_during_the_send_resolves_a_lost_answer(make_campaign, clock):
    campaign = make_campaign(1)

    def receipt_then_timeout(message):
        # The provider's webhook lands while the HTTP answer is still on its way...
        Message.objects.filter(uuid=message.message_id).update(delivery_status="delivered")
        raise SendError(SendError.UNKNOWN, "tiempo de espera agotado")  # ...which never arrives

    MemoryTransport.script = receipt_then_timeout
    summary = run(clock)
    message = campaign.messages.get()
    assert message.status == MessageStatus.SENT and summary.unknown == 0
    campaign.refresh_from_db()
    assert (campaign.sent_count, campaign.unknown_count) == (1, 0)


# --- what one message costs -------------------------------------------------------------------
def step_once(engine, campaign):
    transport = MemoryTransport()
    return engine.step(campaign.sender, transport, None, RunSummary())


def test_it_claims_sends_and_records_a_message_in_fifteen_statements(make_campaign, clock, monkeypatch):
    monkeypatch.setenv("GOTEO_FREQUENCY_DAYS", "0")
    campaign = make_campaign(3, delay_seconds=0)
    engine = Engine(clock)
    step_once(engine, campaign)  # the day's first send also creates the day's counters
    with CaptureQueriesContext(connection) as queries:
        step_once(engine, campaign)
    statements = [q["sql"] for q in queries.captured_queries]
    # Claim: pacing, two slots, the candidate, the message, the campaign's counters, the event.
    # Record: the message, the counters, the event, completion. Each within a savepoint here
    # (the test's transaction), a transaction of its own in a real run. On PostgreSQL the
    # claim is three statements (the sender's pacing and slot; the candidate; the campaign's
    # slot, the message, its counters and its event), the record one, and completion runs
    # only when nothing is left.
    assert len(statements) == (6 if connection.vendor == "postgresql" else 15), statements
    assert not [s for s in statements if s.startswith("SELECT") and "goteo_message" not in s], statements
    assert len(MemoryTransport.outbox) == 2


def test_it_stops_at_once_for_a_campaign_paused_after_its_rules_were_read(make_campaign, clock):
    campaign = make_campaign(3, delay_seconds=0)
    engine = Engine(clock)
    step_once(engine, campaign)
    Campaign.objects.get(pk=campaign.pk).pause("por una persona")  # the engine still holds the row
    assert step_once(engine, campaign).step is not Step.HANDLED
    assert len(MemoryTransport.outbox) == 1
    campaign.refresh_from_db()
    assert (campaign.pending_count, campaign.sending_count, campaign.sent_count) == (2, 0, 1)
    day = campaign.sender.local_day(clock.now())
    assert DailyCounter.used_on(campaign.counter_scope, day) == 1
    assert DailyCounter.used_on(campaign.sender.counter_scope, day) == 1


def test_it_returns_after_the_last_message_without_waiting_another_pause(make_campaign, clock):
    campaign = make_campaign(3, delay_seconds=60)
    started = clock.now()
    run(clock)
    campaign.refresh_from_db()
    assert campaign.status == "completed" and campaign.sent_count == 3
    assert (clock.now() - started).total_seconds() <= 2 * 60 * 1.3  # two pauses, not three


def test_it_completes_the_campaign_in_the_transaction_of_its_last_result(make_campaign, clock):
    campaign = make_campaign(1)
    engine = Engine(clock)
    step_once(engine, campaign)
    campaign.refresh_from_db()
    assert campaign.status == "completed" and campaign.finished_at == clock.now()
    assert MessageEvent.objects.filter(to_status=MessageStatus.SENT).count() == 1
