"""Warm-up of new numbers: the daily cap ramps up week by week, in sending and in forecasts."""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from goteo.models import Sender
from goteo.sending import Engine
from goteo.status import campaign_forecast, campaign_summary
from goteo.transports.memory import MemoryTransport
from goteo.warmup import parse_schedule, warmup_cap, warmup_ends_on, warmup_schedule, warmup_stage
from tests.conftest import BOGOTA

START = date(2026, 1, 2)  # day 1


def nth_day(n: int) -> date:
    return START + timedelta(days=n - 1)


@pytest.mark.parametrize(
    "day,cap",
    [(1, 5), (7, 5), (8, 10), (14, 10), (15, 20), (21, 20), (22, 30), (400, 30)],
)
def test_it_ramps_up_at_the_week_boundaries(day, cap):
    assert warmup_cap(30, START, nth_day(day)) == cap


def test_it_never_goes_above_the_numbers_own_cap():
    assert warmup_cap(8, START, nth_day(1)) == 5
    assert warmup_cap(8, START, nth_day(8)) == 8
    assert warmup_cap(8, START, nth_day(15)) == 8


def test_it_counts_days_before_the_start_as_the_first_week():
    assert warmup_cap(30, START, START - timedelta(days=3)) == 5


def test_it_leaves_a_number_without_warm_up_at_its_cap():
    assert warmup_cap(30, None, START) == 30
    assert warmup_stage(None, START, 30) is None


def test_it_describes_the_stage():
    stage = warmup_stage(START, nth_day(9), 30)
    assert stage is not None
    assert (stage.week, stage.weeks, stage.cap, stage.ends_on) == (2, 3, 10, date(2026, 1, 15))
    assert stage.describe() == "semana 2 de 3: máximo 10 al día hasta el 15/01/2026"
    assert warmup_ends_on(START) == date(2026, 1, 23)
    assert warmup_stage(START, date(2026, 1, 23), 30) is None


def test_it_reads_a_custom_schedule(monkeypatch):
    monkeypatch.setenv("GOTEO_WARMUP_SCHEDULE", "2, 4")
    assert warmup_schedule() == (2, 4)
    assert parse_schedule("10") == (10,)
    for bad in ("5,x", "0,5", ","):
        with pytest.raises(ValueError, match="GOTEO_WARMUP_SCHEDULE"):
            parse_schedule(bad)


@pytest.fixture
def new_sender(db):
    return Sender.objects.create(name="nuevo", backend="memory", daily_cap=30, warmup_started_on=START)


@pytest.mark.django_db(transaction=True)
def test_it_uses_the_warm_up_cap_for_the_sender(new_sender):
    assert new_sender.cap_on(nth_day(7)) == 5
    assert new_sender.cap_on(nth_day(8)) == 10


@pytest.mark.django_db(transaction=True)
def test_it_sends_five_a_day_in_the_first_week_then_ten(make_campaign, clock, new_sender):
    make_campaign(40, sender=new_sender, daily_limit=20, delay_seconds=0)
    sent_by_day = {}
    for d in [date(2026, 1, 2), date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 9)]:
        clock.set(datetime(d.year, d.month, d.day, 10, tzinfo=BOGOTA))
        before = len(MemoryTransport.outbox)
        Engine(clock, max_wait=3600).run()
        clock.advance(hours=2)
        Engine(clock, max_wait=3600).run()  # a second run the same day sends nothing more
        sent_by_day[d.day] = len(MemoryTransport.outbox) - before
    assert sent_by_day == {2: 5, 5: 5, 8: 5, 9: 10}  # Thursday 8 is day 7, Friday 9 is day 8


@pytest.mark.django_db(transaction=True)
def test_it_forecasts_with_the_warm_up(make_campaign, clock, new_sender):
    warming = make_campaign(30, sender=new_sender, daily_limit=20)
    # 5 on each of Fri 2, Mon 5, Tue 6, Wed 7, Thu 8 (25), then 10 from Friday 9 (day 8).
    assert campaign_forecast(warming, clock.now()) == date(2026, 1, 9)
    Sender.objects.filter(pk=new_sender.pk).update(warmup_started_on=None)
    warming.sender.refresh_from_db()
    assert campaign_forecast(warming, clock.now()) == date(2026, 1, 5)


@pytest.mark.django_db(transaction=True)
def test_it_shows_the_stage_in_campaign_status(make_campaign, clock, new_sender):
    campaign = make_campaign(3, sender=new_sender)
    assert campaign_summary(campaign, clock.now())["warmup"] == (
        "semana 1 de 3: máximo 5 al día hasta el 08/01/2026"
    )
    # The command reads the real clock: start the warm-up on the real today.
    today = new_sender.local_day(timezone.now())
    Sender.objects.filter(pk=new_sender.pk).update(warmup_started_on=today)
    out = StringIO()
    call_command("campaign_status", str(campaign.pk), stdout=out)
    last = today + timedelta(days=6)
    assert f"Calentamiento: semana 1 de 3: máximo 5 al día hasta el {last:%d/%m/%Y}" in out.getvalue()
    assert "Número nuevo: 🟢 riesgo bien" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_marks_a_number_as_new_from_the_command(memory_sender):
    out = StringIO()
    call_command("warmup", "pruebas", "--since", "2026-01-02", stdout=out)
    memory_sender.refresh_from_db()
    assert memory_sender.warmup_started_on == START
    text = out.getvalue()
    assert "pruebas: en calentamiento desde el 02/01/2026." in text
    assert "Semana 1: máximo 5 al día (02/01 a 08/01)" in text
    assert "Desde el 23/01/2026: su máximo de 30 al día" in text
    call_command("warmup", "pruebas", "--off", stdout=StringIO())
    memory_sender.refresh_from_db()
    assert memory_sender.warmup_started_on is None
