"""``run_worker``: stopping on signals, the heartbeat, sleeping until the window, many senders."""

import gc
import io
import itertools
import os
import signal
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from goteo.clock import SimulatedClock
from goteo.collector import YOUNG_COLLECTION_EVERY, tune_collector
from goteo.heartbeat import record_scheduled_run, worker_status, worker_status_text
from goteo.models import DailyCounter, Message, MessageStatus, Sender, WorkerHeartbeat
from goteo.sending import Engine, RunSummary
from goteo.sending.retry import RetryWhileDatabaseAway
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from goteo.worker import Worker
from tests.chaos.ledger import LedgerServer
from tests.chaos.scenario import final_sweep, ledger_sender, open_campaigns, start_workers
from tests.conftest import BOGOTA
from tests.processes import wait_for

ALL_DAYS = "mon,tue,wed,thu,fri,sat,sun"


pytestmark = pytest.mark.usefixtures("no_legal_hours")


def run_until(worker: Worker, sends: int) -> list[str]:
    """Run ``worker`` until it has reported ``sends`` messages sent; returns its lines."""
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if sum("enviado" in x for x in lines) >= sends:
            worker.shutdown = True

    worker.say = report
    worker.run()
    return lines


# --- signals, with the real command in a separate process ----------------------------------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_finishes_the_message_in_flight_on_sigterm_and_exits_0(tmp_path):
    with LedgerServer(latency=1.5) as ledger:
        open_campaigns(ledger_sender(ledger.url, timeout=10), 3)
        (worker,) = start_workers(1, tmp_path)
        wait_for(lambda: ledger.total() == 1)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    assert ledger.total() == 1
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 1
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == 2
    beat = WorkerHeartbeat.objects.get()
    assert beat.stopped_at is not None and beat.sent == 1 and beat.pid == worker.pid


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_exits_at_once_on_a_second_signal_and_the_message_ends_unknown(tmp_path):
    with LedgerServer(latency=60) as ledger:
        open_campaigns(ledger_sender(ledger.url, timeout=120), 2)
        (worker,) = start_workers(1, tmp_path)
        wait_for(lambda: ledger.total() == 1)
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 128 + signal.SIGTERM
        assert time.monotonic() - started < 3
        in_flight = Message.objects.get(status=MessageStatus.UNKNOWN)  # at once, not at the next sweep
        assert "a la fuerza" in in_flight.last_error
        assert in_flight.events.filter(from_status="sending", to_status="unknown").count() == 1
        assert Message.objects.filter(status=MessageStatus.SENDING).count() == 0
        assert final_sweep() == 0

        ledger.latency = 0
        (again,) = start_workers(1, tmp_path)
        assert again.wait(timeout=60) == 0
    assert ledger.deliveries[in_flight.phone] == 1
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_heartbeat_while_it_runs(tmp_path):
    with LedgerServer(latency=1.0) as ledger:
        open_campaigns(ledger_sender(ledger.url, timeout=10), 5)
        (worker,) = start_workers(1, tmp_path)
        wait_for(lambda: ledger.total() >= 2)
        beat = WorkerHeartbeat.objects.get()
        assert beat.stopped_at is None and beat.senders == 1
        first_seen = beat.last_seen_at
        wait_for(lambda: WorkerHeartbeat.objects.get().last_seen_at > first_seen)
        os.kill(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=20) == 0


# --- what campaign_status shows ------------------------------------------------------------
def heartbeat(name: str, at: datetime, stopped: bool = False) -> None:
    WorkerHeartbeat.objects.create(
        name=name, started_at=at, last_seen_at=at, stopped_at=at if stopped else None
    )


@pytest.mark.django_db(transaction=True)
def test_it_says_a_worker_is_active(clock):
    heartbeat("tienda:41", clock.now() - timedelta(seconds=5))
    assert worker_status_text(clock.now()) == "Worker activo hace 5 s (tienda:41)."
    heartbeat("bodega:7", clock.now() - timedelta(seconds=20))
    assert worker_status_text(clock.now()) == "2 workers activos; el último se vio hace 5 s."


@pytest.mark.django_db(transaction=True)
def test_it_warns_when_no_worker_runs_during_a_window(make_campaign, clock):
    make_campaign(3)  # Friday 10:00, inside its 09:00-19:00 window
    text = worker_status_text(clock.now())
    assert text.startswith("⚠ Ningún worker activo (nunca se ha iniciado uno)")
    heartbeat("tienda:41", clock.now() - timedelta(hours=3))
    assert "el último se vio hace 3 h" in worker_status_text(clock.now())


@pytest.mark.django_db(transaction=True)
def test_it_warns_when_a_window_passed_without_a_worker(make_campaign, clock):
    make_campaign(3)
    heartbeat("tienda:41", clock.now() - timedelta(days=1))
    clock.advance(hours=10)  # Friday 20:00: the window closed unattended
    assert worker_status_text(clock.now()).startswith("⚠ Hoy no hubo ningún worker")
    heartbeat("bodega:7", clock.now() - timedelta(hours=2), stopped=True)  # seen 18:00
    assert worker_status_text(clock.now()) == "Worker: ninguno activo (el último se vio hace 2 h)."


@pytest.mark.django_db(transaction=True)
def test_it_counts_a_scheduled_run_as_someone_sending(make_campaign, clock):
    make_campaign(30, daily_limit=20)
    Engine(clock, max_wait=3600).run()
    record_scheduled_run(clock.now())
    clock.advance(minutes=5)
    assert (
        worker_status_text(clock.now()) == "Envío programado: el último process_campaigns corrió hace 5 min."
    )
    clock.advance(hours=1)  # the day's 20 went out: nothing could send now, nothing was missed
    assert worker_status(clock.now())["warning"] == ""


@pytest.mark.django_db(transaction=True)
def test_it_warns_when_scheduled_runs_stop_while_a_campaign_could_send(make_campaign, clock):
    make_campaign(3)
    record_scheduled_run(clock.now() - timedelta(minutes=10))
    assert worker_status(clock.now())["warning"] == ""
    clock.advance(minutes=15)
    text = worker_status_text(clock.now())
    assert text.startswith("⚠ Ningún worker activo (el último process_campaigns corrió hace 25 min)")


@pytest.mark.django_db(transaction=True)
def test_it_records_each_process_campaigns_run(make_campaign):
    make_campaign(2)
    call_command("process_campaigns", stdout=io.StringIO())
    run = WorkerHeartbeat.objects.get()
    assert run.name.startswith("process_campaigns@") and run.stopped_at == run.last_seen_at
    call_command("process_campaigns", "--dry-run", stdout=io.StringIO())
    assert WorkerHeartbeat.objects.get().last_seen_at == run.last_seen_at  # a dry run sends nothing


@pytest.mark.django_db(transaction=True)
def test_it_shows_the_worker_line_in_campaign_status(make_campaign):
    make_campaign(3)
    out = io.StringIO()
    call_command("campaign_status", stdout=out)
    assert "worker" in out.getvalue().splitlines()[-1].lower()


# --- scheduling, in the main thread with a simulated clock ---------------------------------
@pytest.mark.django_db(transaction=True)
def test_it_sleeps_until_the_window_opens_instead_of_polling(make_campaign, clock, monkeypatch):
    make_campaign(3)
    clock.set(datetime(2026, 1, 2, 19, 30, tzinfo=BOGOTA))  # Friday, after the window
    claims, wakeups = [], []
    original_claim = Engine.claim
    monkeypatch.setattr(
        Engine, "claim", lambda self, *a: claims.append(clock.now()) or original_claim(self, *a)
    )
    worker = Worker(clock, threads=0, heartbeat_seconds=3600, rescan_seconds=3600, sweep_seconds=3600)
    original_housekeeping = worker.housekeeping
    worker.housekeeping = lambda now: wakeups.append(now) or original_housekeeping(now)
    run_until(worker, 1)
    monday_nine = datetime(2026, 1, 5, 9, 0, tzinfo=BOGOTA)
    assert claims == [monday_nine]
    assert Message.objects.get(status=MessageStatus.SENT).sent_at == monday_nine
    assert len(wakeups) < 80  # about one an hour over 61.5 hours, never one a second


@pytest.mark.django_db(transaction=True)
def test_it_sends_at_each_campaigns_pace(make_campaign, clock):
    make_campaign(4, delay_seconds=30)
    worker = Worker(clock, threads=0, heartbeat_seconds=600)
    run_until(worker, 4)
    times = list(Message.objects.order_by("sent_at").values_list("sent_at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(20 <= g <= 40 for g in gaps), gaps  # 30 s with ±30 % jitter


@pytest.mark.django_db(transaction=True)
def test_it_keeps_each_days_cap_across_midnight_on_a_daylight_saving_day(db):
    """Chile moves its clocks from 00:00 to 01:00 on 6 September 2026: midnight never happens."""
    santiago = ZoneInfo("America/Santiago")
    sender = Sender.objects.create(name="chile", backend="memory", daily_cap=3, time_zone="America/Santiago")
    clock_start = datetime(2026, 9, 5, 23, 59, tzinfo=santiago)
    clock = SimulatedClock(clock_start)
    open_campaigns(sender, 8)
    sender.campaigns.update(delay_seconds=10)
    run_until(Worker(clock, threads=0, heartbeat_seconds=3600), 6)
    sent = Message.objects.filter(status=MessageStatus.SENT).order_by("sent_at")
    assert [m.quota_day for m in sent] == [date(2026, 9, 5)] * 3 + [date(2026, 9, 6)] * 3
    assert sent[3].sent_at.astimezone(santiago) == datetime(2026, 9, 6, 1, 0, tzinfo=santiago)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_going_after_a_database_error_in_a_step(make_campaign, clock, monkeypatch):
    make_campaign(3, delay_seconds=0)
    failures = [OperationalError("server closed the connection unexpectedly")]
    original_step = Engine.step

    def step(self, *args):
        if failures:
            raise failures.pop()
        return original_step(self, *args)

    monkeypatch.setattr(Engine, "step", step)
    started = clock.now()
    lines = run_until(Worker(clock, threads=0, heartbeat_seconds=600), 3)
    assert any(line.startswith("⚠ Error al enviar") for line in lines)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3
    assert (clock.now() - started).total_seconds() >= 5  # the sender rested before retrying


@pytest.mark.django_db(transaction=True)
def test_it_records_an_outcome_once_the_database_is_back(make_campaign, clock, monkeypatch):
    make_campaign(1)
    failures = [OperationalError("terminating connection"), OperationalError("the database is starting up")]
    original = Engine.record_sent

    def record_sent(self, *args):
        if failures:
            raise failures.pop()
        return original(self, *args)

    monkeypatch.setattr(Engine, "record_sent", record_sent)
    run_until(Worker(clock, threads=0, heartbeat_seconds=600), 1)
    assert Message.objects.get().status == MessageStatus.SENT
    assert len(MemoryTransport.outbox) == 1


# --- many senders at once, with threads and real time --------------------------------------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_drives_many_senders_at_once():
    senders = [Sender.objects.create(name=f"numero-{n}", backend="memory", daily_cap=100) for n in range(8)]
    for sender in senders:
        open_campaigns(sender, 3)
    for sender in senders:
        sender.campaigns.update(delay_seconds=1)
    started = time.monotonic()
    worker = Worker(threads=8, rescan_seconds=0.2, heartbeat_seconds=5, exit_when_idle=True)
    assert worker.run() == 0
    elapsed = time.monotonic() - started
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 24
    assert elapsed < 8, elapsed  # one after another it would take about 16 s
    for sender in senders:
        claimed = Message.objects.filter(campaign__sender=sender).order_by("claimed_at")
        times = list(claimed.values_list("claimed_at", flat=True))
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert all(g >= 0.69 for g in gaps), gaps  # each number keeps its own pace


@pytest.mark.django_db(transaction=True)
def test_it_spends_no_query_per_message_beyond_the_claim_and_its_record(make_campaign, clock, monkeypatch):
    """The number's next slot comes from its claim and its campaigns are reused: no re-reads."""
    monkeypatch.setenv("GOTEO_FREQUENCY_DAYS", "0")

    def queries_to_send(messages: int) -> int:
        make_campaign(messages, delay_seconds=0)
        with CaptureQueriesContext(connection) as queries:
            run_until(Worker(clock, threads=0, heartbeat_seconds=3600, rescan_seconds=3600), messages)
        MemoryTransport.reset()
        return len(queries.captured_queries)

    queries_to_send(1)  # the day's first send creates the number's counter, heartbeat and health
    per_message = (queries_to_send(12) - queries_to_send(2)) / 10
    assert per_message <= 15, per_message  # claim and record, as in test_engine


def test_it_refuses_a_worker_without_threads():
    with pytest.raises(CommandError, match="--threads"):
        call_command("run_worker", threads=0)


@pytest.mark.django_db(transaction=True)
def test_it_gives_back_a_slot_once_when_an_outcome_is_written_twice(make_campaign, clock):
    """A retried write (the database dropped the answer to its commit) must not refund twice."""
    campaign = make_campaign(2, delay_seconds=0)
    engine = Engine(clock, record_retry=RetryWhileDatabaseAway(clock))
    campaigns = engine.active_campaigns(campaign.sender, None)
    first = engine.claim(campaign.sender, campaigns, clock.now())
    engine.claim(campaign.sender, campaigns, clock.now())
    throttled = SendError(SendError.RETRY, "429", retry_after=60)
    engine.record_failure(first, throttled, RunSummary())
    engine.record_failure(first, throttled, RunSummary())
    day = campaign.sender.local_day(clock.now())
    assert DailyCounter.used_on(campaign.sender.counter_scope, day) == 1
    assert DailyCounter.used_on(campaign.counter_scope, day) == 1


# --- the same safeguards as process_campaigns ----------------------------------------------
def drain(clock) -> None:
    assert Worker(clock, threads=0, rescan_seconds=30, exit_when_idle=True).run() == 0


@pytest.mark.django_db(transaction=True)
def test_it_brakes_a_risky_number_before_it_sends_again(make_campaign, clock, memory_sender):
    first = make_campaign(12, daily_limit=30)
    phones = set(first.messages.order_by("id").values_list("phone", flat=True)[:4])

    def not_on_whatsapp(message):
        if message.to in phones:
            raise SendError(SendError.PERMANENT, "no está en WhatsApp", code="exists:false")

    MemoryTransport.script = not_on_whatsapp
    Engine(clock, max_wait=3600).run()
    MemoryTransport.script = None
    second = make_campaign(5)
    clock.advance(hours=1)
    drain(clock)
    memory_sender.refresh_from_db()
    second.refresh_from_db()
    assert memory_sender.is_braked(clock.now())
    assert second.status == "paused" and second.pause_reason.startswith("Riesgo alto de bloqueo")
    assert second.sent_count == 0


@pytest.mark.django_db(transaction=True)
def test_it_pauses_a_campaign_the_legal_profile_no_longer_allows(make_campaign, clock, monkeypatch):
    campaign = make_campaign(5, send_days=ALL_DAYS, window_start=clock_time(6))
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "co")
    drain(clock)
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert campaign.pause_reason.startswith("Fuera del horario legal")
    assert campaign.sent_count == 0 and MemoryTransport.outbox == []


def test_it_freezes_what_start_up_loaded_and_collects_new_objects_less_often():
    threshold = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY > threshold[0]
        assert gc.get_freeze_count() > 1000  # Django, the models, this test session
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.django_db(transaction=True)
def test_an_idle_run_ends_as_soon_as_its_last_number_is_done_not_at_the_next_rescan(make_campaign, clock):
    make_campaign(3, delay_seconds=10)
    started = clock.now()
    worker = Worker(clock, threads=0, rescan_seconds=3600, exit_when_idle=True)
    assert worker.run() == 0
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3
    assert clock.now() - started < timedelta(minutes=2)  # two pauses of about 10 s, not an hour


@pytest.mark.django_db(transaction=True)
def test_a_number_whose_campaign_ran_out_closes_at_once_not_after_its_pause(make_campaign, clock):
    make_campaign(3, delay_seconds=10)
    worker = Worker(clock, threads=0, rescan_seconds=3600, exit_when_idle=True)
    assert worker.run() == 0
    last = Message.objects.order_by("-sent_at").values_list("sent_at", flat=True).first()
    assert last is not None and clock.now() - last < timedelta(seconds=5)  # the pause is 7 to 13 s


@pytest.mark.django_db(transaction=True)
def test_a_number_keeps_its_pace_into_its_next_campaign(make_campaign, clock):
    make_campaign(2, delay_seconds=10)
    make_campaign(2, delay_seconds=10)  # its audience is everyone: two new people, two held by the cap
    worker = Worker(clock, threads=0, rescan_seconds=3600, exit_when_idle=True)
    assert worker.run() == 0
    sent = Message.objects.filter(status=MessageStatus.SENT).order_by("sent_at")
    times = list(sent.values_list("sent_at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert len(times) == 4 and all(g >= 7 for g in gaps), gaps
