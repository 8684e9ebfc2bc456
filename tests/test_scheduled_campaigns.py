"""Campaigns scheduled ahead: «Programada» until their start, then they launch and send on their own."""

import json
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from goteo.clock import SimulatedClock
from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, SkipReason
from goteo.scheduling import campaign_schedule, launch_due, parse_moment
from goteo.sending import Engine
from goteo.worker import Worker
from tests.conftest import BOGOTA, at

THURSDAY = datetime(2026, 12, 3, 10, 0, tzinfo=BOGOTA)  # before the weekend of 5-6 December
pytestmark = pytest.mark.django_db(transaction=True)

SATURDAY_NINE = datetime(2026, 12, 5, 9, 0, tzinfo=BOGOTA)
MONDAY_NINE = datetime(2026, 12, 7, 9, 0, tzinfo=BOGOTA)  # Tuesday 8 December is a holiday in Colombia


def command(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def create(*extra):
    out, err = command(
        "create_campaign",
        "--name",
        "Navidad",
        "--template",
        "Hola {nombre}, {beneficio}",
        "--promotion-code",
        "NAVIDAD2026",
        "--benefit",
        "30% en monturas",
        "--valid-until",
        "31/12/2026",
        *extra,
    )
    return Campaign.objects.get(pk=int(out.strip())), err


@pytest.fixture
def at_thursday(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: THURSDAY)
    return THURSDAY


@pytest.fixture
def people(make_campaign, memory_sender):
    """30 consenting contacts (a throwaway campaign's), and the memory number as the default."""
    make_campaign(30, launch=False)
    Campaign.objects.all().delete()
    return memory_sender


def run_at(moment: datetime) -> None:
    clock = SimulatedClock(moment)
    Engine(clock, max_wait=3600).run()


def test_it_reads_a_start_written_either_way_in_the_numbers_zone():
    assert parse_moment("2026-12-15 09:00", BOGOTA) == datetime(2026, 12, 15, 9, 0, tzinfo=BOGOTA)
    assert parse_moment("15/12/2026  09:00", BOGOTA) == datetime(2026, 12, 15, 9, 0, tzinfo=BOGOTA)
    with pytest.raises(ValueError, match="escríbalas como 15/12/2026 09:00"):
        parse_moment("15 de diciembre", BOGOTA)


def test_it_keeps_a_scheduled_campaign_waiting_and_sends_nothing_before_its_start(people, at_thursday):
    campaign, err = create("--sender", people.name, "--start-at", "07/12/2026 09:00", "--start")
    assert campaign.status == CampaignStatus.SCHEDULED
    assert "Programada: empieza el lunes 7 a las 09:00" in err
    assert not campaign.messages.exists()

    run_at(datetime(2026, 12, 4, 15, 0, tzinfo=BOGOTA))  # Friday, inside the window
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert not Message.objects.exists()

    out, _err = command("process_campaigns", "--dry-run")
    assert "programada para el lunes 7 a las 09:00" in out
    out, _err = command("campaign_status", str(campaign.pk))
    assert "Estado: Programada — empieza el lunes 7 a las 09:00" in out


def test_it_counts_the_forecast_from_the_start_across_a_weekend_and_a_holiday(people, at_thursday):
    campaign, _err = create("--sender", people.name, "--start-at", "2026-12-05 09:00", "--start")
    status = json.loads(command("campaign_status", str(campaign.pk), "--json")[0])
    assert status["status"] == "scheduled"
    # Saturday's start waits for Monday; 20 go out Monday, Tuesday 8 is a holiday, 10 on Wednesday.
    assert datetime.fromisoformat(status["next_send_at"]) == MONDAY_NINE
    assert status["estimated_completion"] == "2026-12-09"

    run_at(SATURDAY_NINE)  # it launches at its start, and waits for the first sending day
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pending_count, campaign.sent_count) == ("active", 30, 0)
    assert campaign.started_at == SATURDAY_NINE
    run_at(MONDAY_NINE)
    run_at(datetime(2026, 12, 8, 9, 0, tzinfo=BOGOTA))
    campaign.refresh_from_db()
    assert campaign.sent_count == 20
    run_at(datetime(2026, 12, 9, 9, 0, tzinfo=BOGOTA))
    days = sorted({m.sent_at.astimezone(BOGOTA).date() for m in Message.objects.all()})
    assert days == [date(2026, 12, 7), date(2026, 12, 9)]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED


def test_it_skips_what_remains_once_the_campaign_ends(people, at_thursday):
    campaign, err = create(
        "--sender", people.name, "--start-at", "07/12/2026 09:00", "--end-at", "07/12/2026 19:00", "--start"
    )
    assert "y termina el lunes 7 a las 19:00" in err
    run_at(MONDAY_NINE)
    campaign.refresh_from_db()
    assert campaign.sent_count == 20
    run_at(datetime(2026, 12, 9, 9, 0, tzinfo=BOGOTA))
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sent_count, campaign.skipped_count) == ("completed", 20, 10)
    assert set(
        campaign.messages.filter(status=MessageStatus.SKIPPED).values_list("skip_reason", flat=True)
    ) == {SkipReason.ENDED}


def test_it_refuses_a_start_in_the_past_or_written_wrong(people, at_thursday):
    with pytest.raises(CommandError, match="ya pasó"):
        create("--sender", people.name, "--start-at", "01/12/2026 09:00")
    with pytest.raises(CommandError, match="--start-at: fecha y hora no válidas"):
        create("--sender", people.name, "--start-at", "mañana")
    with pytest.raises(CommandError, match="posterior"):
        create("--sender", people.name, "--start-at", "07/12/2026 09:00", "--end-at", "07/12/2026 08:00")
    assert not Campaign.objects.exists()


def test_it_can_be_changed_or_cancelled_while_scheduled(people, at_thursday, admin_client):
    campaign, _err = create("--sender", people.name, "--start-at", "07/12/2026 09:00", "--start")
    edit = admin_client.get(f"/dashboard/promociones/campanas/{campaign.pk}/editar/")
    assert edit.status_code == 200 and 'name="start_at"' in edit.content.decode()
    page = admin_client.get(f"/dashboard/promociones/campanas/{campaign.pk}/").content.decode()
    assert "Programada: empieza el lunes 7 a las 09:00" in page
    listing = admin_client.get("/dashboard/promociones/campanas/").content.decode()
    assert "Programada: empieza el lunes 7 a las 09:00" in listing
    out, _err = command("cancel_campaign", str(campaign.pk), "--yes")
    assert "cancelada" in out
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert launch_due(MONDAY_NINE) == 0
    assert not Message.objects.exists()


def test_it_goes_back_to_draft_with_the_reason_when_it_can_no_longer_start(people, make_campaign):
    campaign = make_campaign(3, launch=False, valid_until=date(2026, 12, 6), start_at=MONDAY_NINE)
    assert campaign_schedule(campaign, THURSDAY) is None
    lines: list[str] = []
    assert launch_due(MONDAY_NINE, lines.append) == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert "venció" in campaign.pause_reason and "no pudo empezar" in lines[0]


def test_the_worker_sleeps_until_the_start_instead_of_polling(people, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    friday_evening = datetime(2026, 12, 4, 19, 30, tzinfo=BOGOTA)
    campaign = make_campaign(2, launch=False, valid_until=date(2026, 12, 31), start_at=MONDAY_NINE)
    campaign_schedule(campaign, friday_evening)
    clock = SimulatedClock(friday_evening)
    worker = Worker(clock, threads=0, heartbeat_seconds=3600, rescan_seconds=3600, sweep_seconds=3600)
    wakeups: list[datetime] = []
    housekeeping = worker.housekeeping

    def look(now: datetime) -> bool:
        wakeups.append(now)
        worker.shutdown = worker.shutdown or now > MONDAY_NINE.replace(day=8)  # it never woke for the start
        return housekeeping(now)

    worker.housekeeping = look
    sent: list[str] = []

    def report(line: str) -> None:
        sent.extend([line] if "enviado" in line else [])
        worker.shutdown = len(sent) >= 1

    worker.say = report
    worker.run()
    first = Message.objects.get(status=MessageStatus.SENT)
    assert first.sent_at == MONDAY_NINE  # at its start, not at the next hourly rescan (09:30)
    assert len(wakeups) < 80  # about one an hour over 61.5 hours, never one a second


def test_the_start_reads_in_the_language_of_the_page():
    from django.utils import translation

    from goteo.schedule import describe_start

    now, zone = at(2026, 12, 1, 10), ZoneInfo("America/Bogota")
    with translation.override("es"):
        assert describe_start(at(2026, 12, 7, 9), now, zone) == "el lunes 7 a las 09:00"
        assert describe_start(at(2027, 1, 5, 9), now, zone) == "el martes 5 de enero de 2027 a las 09:00"
    with translation.override("en"):
        assert describe_start(at(2026, 12, 7, 9), now, zone) == "on Monday 7 at 09:00"
        assert describe_start(at(2027, 1, 5, 9), now, zone) == "on Tuesday 5 January 2027 at 09:00"
