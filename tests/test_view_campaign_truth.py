"""The card tells the truth: no alarm while messages go out, and an expired promotion shows so."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from goteo.heartbeat import ScheduledRun, worker_status
from goteo.models import Campaign, CampaignStatus, WorkerHeartbeat
from goteo.sending import Engine
from tests.conftest import BOGOTA
from tests.dashboard import page_text


@pytest.fixture
def staff(staff, no_legal_hours):
    """The signed-in client, with the legal profile off for the pages' runs."""
    return staff


def detail(staff, campaign: Campaign) -> str:
    return page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))


def yesterdays_run(clock) -> None:
    WorkerHeartbeat.objects.create(
        name="process_campaigns@tienda",
        started_at=clock.now() - timedelta(days=1),
        last_seen_at=clock.now() - timedelta(days=1),
        stopped_at=clock.now() - timedelta(days=1),
    )


# --- the false alarm ------------------------------------------------------------------------
def test_it_does_not_say_nothing_went_out_while_a_campaign_sends_without_a_heartbeat(
    staff, make_campaign, clock
):
    campaign = make_campaign(30, daily_limit=20, delay_seconds=60)
    yesterdays_run(clock)
    Engine(clock, max_wait=3600).run([campaign.pk])  # today's 20 go out, a minute apart, no beat
    clock.advance(minutes=5)

    text = detail(staff, campaign)

    assert worker_status(clock.now())["warning"] == ""
    assert "no salió" not in text
    last = campaign.messages.exclude(sent_at=None).latest("sent_at").sent_at
    minutes = int((clock.now() - last).total_seconds() // 60)  # 5, or 6 if the run paced once more
    assert f"Envío automático: en espera, último envío hace {minutes} min." in text


def test_it_counts_a_long_scheduled_run_as_someone_sending_from_its_start(make_campaign, clock):
    make_campaign(40, daily_limit=30, delay_seconds=60)
    yesterdays_run(clock)
    run = ScheduledRun(clock)
    run.start()
    clock.advance(minutes=25)  # still pacing through the day's messages, nothing sent yet
    run.still_running()
    clock.advance(minutes=10)

    assert worker_status(clock.now())["warning"] == ""


def test_it_still_warns_when_nobody_came_and_nothing_went_out(staff, make_campaign, clock):
    campaign = make_campaign(3)
    yesterdays_run(clock)
    clock.advance(hours=10)  # Friday 20:00: the window closed with nobody there

    text = detail(staff, campaign)

    assert "⚠ Hoy el envío automático no funcionó durante el horario de envío" in text


# --- an expired promotion -------------------------------------------------------------------
def expired_seed(make_campaign, clock) -> Campaign:
    """Ten people, four sent, then the promotion ends and the owner opens the page."""
    campaign = make_campaign(10, daily_limit=4, valid_until=date(2026, 1, 3))
    Engine(clock, max_wait=3600).run([campaign.pk])
    clock.set(datetime(2026, 1, 5, 11, 0, tzinfo=BOGOTA))  # Monday: over since Saturday night
    campaign.refresh_from_db()
    return campaign


def test_it_shows_an_expired_promotion_before_any_run_has_skipped_what_is_left(staff, make_campaign, clock):
    campaign = expired_seed(make_campaign, clock)
    assert campaign.status == CampaignStatus.ACTIVE

    text = detail(staff, campaign)

    assert "Estado: Vencida" in text
    assert (
        "La promoción venció el 03/01/2026: no se enviará nada más. Quedaron 6 personas sin recibirla."
        in text
    )
    assert "Próximo envío: ninguno: la promoción venció" in text
    assert "En progreso" not in text
    assert "Terminación estimada" not in text
    assert "lo pendiente se omitirá" not in text  # no warning in the future tense
    assert "Pausar" not in text


def test_it_shows_an_expired_promotion_after_the_run_skipped_what_was_left(staff, make_campaign, clock):
    campaign = expired_seed(make_campaign, clock)
    Engine(clock, max_wait=3600).run([campaign.pk])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and campaign.pending_count == 0

    text = detail(staff, campaign)

    assert "Estado: Vencida" in text
    assert "Quedaron 6 personas sin recibirla." in text
    assert "Completada" not in text
    rows = page_text(staff.get(reverse("goteo:campaign_list"))).split("Envío automático")[1]  # below the tabs
    assert "Vencida" in rows and "Completada" not in rows


def test_it_says_why_there_is_no_next_send(staff, make_campaign, clock):
    campaign = make_campaign(3)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)

    assert "Próximo envío: ninguno mientras esté en pausa" in detail(staff, campaign)
