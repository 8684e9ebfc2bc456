"""Test mode: what the console prints is simulated, never sent, and never counts as received."""

from __future__ import annotations

from datetime import datetime, time
from io import StringIO

import pytest
from django.db.models import F

from goteo.frequency import held_messages
from goteo.launch import LaunchError, campaign_launch
from goteo.models import Campaign, Contact, Message, MessageEvent, MessageStatus, Sender
from goteo.risk import BAD, brake_if_risky, sender_activity
from goteo.sending import Engine
from goteo.transports.console import ConsoleTransport
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA, FRIDAY

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=BOGOTA)
LAUNCH = datetime.combine(FRIDAY, time(9, 0), tzinfo=BOGOTA)


@pytest.fixture
def printed():
    return StringIO()


def run(clock, printed=None, lines=None, **kw):
    """A run whose console prints into ``printed`` (the real ConsoleTransport otherwise)."""
    from goteo.transports import transport_for

    def factory(sender):
        if sender.backend == "console":
            return ConsoleTransport({"stream": printed or StringIO()})
        return transport_for(sender)

    report = lines.append if lines is not None else None
    return Engine(clock, max_wait=3600, transport_factory=factory, report=report, **kw).run()


def simulation(make_campaign, sender, contacts=5, **fields):
    campaign = make_campaign(contacts, launch=False, sender=sender, **fields)
    campaign_launch(campaign, LAUNCH, simulate=True)
    campaign.refresh_from_db()
    return campaign


def test_it_records_a_console_send_as_simulated_not_sent(make_campaign, console_sender, clock, printed):
    campaign = simulation(make_campaign, console_sender, delay_seconds=0)
    lines: list[str] = []

    summary = run(clock, printed, lines)

    campaign.refresh_from_db()
    assert (summary.sent, summary.simulated) == (0, 5)
    assert (campaign.sent_count, campaign.simulated_count, campaign.pending_count) == (0, 5, 0)
    assert campaign.status == "completed"
    statuses = set(Message.objects.filter(campaign=campaign).values_list("status", "sent_at"))
    assert statuses == {(MessageStatus.SIMULATED, None)}  # no send time: nobody received it
    assert MessageEvent.objects.filter(to_status=MessageStatus.SIMULATED).count() == 5
    assert printed.getvalue().count("--- WhatsApp a") == 5
    assert all("simulado (modo de prueba: no salió por WhatsApp)" in line for line in lines if "🧪" in line)
    assert not any("enviado" in line for line in lines)
    assert summary.as_dict()["simulated"] == 5
    assert campaign.recount()["simulated"] == 5  # the counter agrees with the rows


def test_a_real_campaign_reaches_the_people_a_simulation_reached(
    make_campaign, console_sender, memory_sender, clock, printed
):
    simulated = simulation(make_campaign, console_sender, delay_seconds=0)
    run(clock, printed)
    people = list(Contact.objects.values_list("phone", flat=True))
    # Monday, after connecting WhatsApp: a new, real campaign for the same people.
    clock.set(MONDAY)
    real = Campaign.objects.create(
        name="De verdad",
        promotion=simulated.promotion,
        sender=memory_sender,
        template=simulated.template,
        delay_seconds=0,
    )
    campaign_launch(real, MONDAY)

    assert held_messages(real, MONDAY) == {}  # the frequency cap holds nobody
    summary = run(clock)

    real.refresh_from_db()
    assert summary.sent == 5 and real.sent_count == 5
    assert sorted(m.to for m in MemoryTransport.outbox) == sorted(people)


def test_the_risk_signals_ignore_simulated_messages(make_campaign, console_sender, clock, printed):
    campaign = simulation(make_campaign, console_sender, contacts=12, delay_seconds=0, daily_limit=30)
    run(clock, printed)
    now = clock.now()
    # Three of the twelve opt out afterwards: 25 % would brake a number that really sent.
    for contact in Contact.objects.order_by("id")[:3]:
        contact.opt_out("prueba", now)

    activity = sender_activity(console_sender, now)
    risk = brake_if_risky(console_sender, now, activity)

    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SIMULATED).count() == 12
    assert (activity.sent, activity.finished, activity.opted_out, activity.sent_ever) == (0, 0, 0, 0)
    assert risk.level != BAD
    console_sender.refresh_from_db()
    assert not console_sender.is_braked(now)


def test_a_real_campaign_does_not_start_on_a_number_in_test_mode(make_campaign, console_sender):
    campaign = make_campaign(3, launch=False, sender=console_sender)

    with pytest.raises(LaunchError, match="modo de prueba") as refused:
        campaign_launch(campaign, LAUNCH)

    assert "Conectar WhatsApp" in str(refused.value) and "simulación" in str(refused.value)
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.total_count == 0


def test_a_number_connected_to_whatsapp_does_not_simulate(make_campaign, memory_sender):
    campaign = make_campaign(3, launch=False)

    with pytest.raises(LaunchError, match="no se puede simular"):
        campaign_launch(campaign, LAUNCH, simulate=True)

    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_a_real_campaign_pauses_when_its_number_is_put_in_test_mode(make_campaign, memory_sender, clock):
    campaign = make_campaign(3, delay_seconds=0)
    Sender.objects.filter(pk=memory_sender.pk).update(backend="console")
    lines: list[str] = []

    summary = run(clock, lines=lines)

    campaign.refresh_from_db()
    assert (summary.sent, summary.simulated, campaign.pending_count) == (0, 0, 3)
    assert campaign.status == "paused"
    assert "modo de prueba" in campaign.pause_reason and "Conectar WhatsApp" in campaign.pause_reason
    assert any("pausada" in line for line in lines)


def test_a_simulation_never_sends_for_real_once_whatsapp_is_connected(make_campaign, console_sender, clock):
    campaign = simulation(make_campaign, console_sender, delay_seconds=0)
    Sender.objects.filter(pk=console_sender.pk).update(backend="memory")

    summary = run(clock)

    campaign.refresh_from_db()
    assert MemoryTransport.outbox == []
    assert (summary.sent, campaign.pending_count, campaign.status) == (0, 5, "paused")
    assert "cree una campaña nueva" in campaign.pause_reason


def test_the_engine_never_sends_a_campaign_in_another_mode_than_its_own(make_campaign, clock, printed):
    # Past the run's check (a number changed while a worker holds its transport): the step
    # itself leaves a real campaign alone on a printing transport.
    campaign = make_campaign(3, delay_seconds=0)
    engine = Engine(clock, max_wait=3600, transport_factory=lambda s: ConsoleTransport({"stream": printed}))

    summary = engine.run()

    campaign.refresh_from_db()
    assert (summary.sent, summary.simulated, campaign.pending_count) == (0, 0, 3)
    assert printed.getvalue() == ""


def test_the_worker_records_a_simulation_as_simulated(
    make_campaign, console_sender, clock, printed, monkeypatch
):
    from goteo.worker import Worker

    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    campaign = simulation(make_campaign, console_sender, contacts=3, delay_seconds=0)
    worker = Worker(
        clock,
        threads=0,
        heartbeat_seconds=3600,
        transport_factory=lambda s: ConsoleTransport({"stream": printed}),
    )
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        worker.shutdown = sum("(+57" in x for x in lines) >= 3  # one line per message handled

    worker.say = report
    worker.run()

    campaign.refresh_from_db()
    assert (campaign.sent_count, campaign.simulated_count) == (0, 3)
    assert not Message.objects.filter(status=MessageStatus.SENT).exists()


def test_a_simulation_left_sending_by_a_stopped_process_ends_simulated_not_unknown(
    make_campaign, console_sender, memory_sender, clock
):
    from datetime import timedelta

    simulated = simulation(make_campaign, console_sender, contacts=2)
    real = make_campaign(1)
    long_ago = clock.now() - timedelta(hours=1)
    for campaign in (simulated, real):  # a process died after claiming one message of each
        Message.objects.filter(pk=campaign.messages.order_by("id").first().pk).update(
            status=MessageStatus.SENDING, claimed_at=long_ago
        )
        Campaign.objects.filter(pk=campaign.pk).update(pending_count=F("pending_count") - 1, sending_count=1)

    swept = Engine(clock).sweep_stale(clock.now())

    assert swept == 1  # only the real one may have gone out
    assert list(simulated.messages.values_list("status", flat=True).order_by("id")) == [
        "simulated",
        "pending",
    ]
    assert real.messages.order_by("id").first().status == MessageStatus.UNKNOWN
    simulated.refresh_from_db()
    assert (simulated.sending_count, simulated.simulated_count) == (0, 1)
    event = MessageEvent.objects.get(to_status=MessageStatus.SIMULATED)
    assert "nadie lo recibió" in event.detail
