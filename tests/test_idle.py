"""Why a campaign sends nothing now, and when it will: one reason per brake."""

from datetime import date, datetime, time, timedelta

import pytest

from goteo.idle import idle_reason
from goteo.models import Campaign, CampaignStatus
from goteo.sending import Engine
from tests.conftest import BOGOTA, FRIDAY

pytestmark = pytest.mark.django_db(transaction=True)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BOGOTA)


def test_it_says_outside_the_window_and_when_it_opens(make_campaign):
    campaign = make_campaign(3)
    reason = idle_reason(campaign, at(FRIDAY, 7, 30))
    assert reason.code == "outside_window"
    assert reason.text == "fuera del horario (09:00 a 19:00); próximo envío hoy 09:00"
    assert reason.next_send_at == at(FRIDAY, 9)


def test_it_names_the_campaigns_daily_limit_when_reached(make_campaign, clock):
    campaign = make_campaign(5, daily_limit=2)
    Engine(clock).run()
    campaign.refresh_from_db()
    reason = idle_reason(campaign, clock.now())
    assert reason.code == "daily_limit"
    assert reason.text == "límite diario alcanzado (2 de 2); próximo envío lunes 09:00"
    assert (reason.used, reason.limit) == (2, 2)


def test_it_names_the_numbers_own_daily_cap(make_campaign, memory_sender, clock):
    memory_sender.daily_cap = 2
    memory_sender.save()
    campaign = make_campaign(5, daily_limit=20)
    Engine(clock).run()
    campaign.refresh_from_db()
    reason = idle_reason(campaign, clock.now())
    assert reason.code == "sender_cap"
    assert "el número pruebas alcanzó su máximo del día (2 de 2)" in reason.text


def test_it_says_the_number_is_braked_until_when(make_campaign, memory_sender, clock):
    campaign = make_campaign(3)
    memory_sender.brake("calidad baja", clock.now() + timedelta(hours=2), now=clock.now())
    campaign.refresh_from_db()
    paused = idle_reason(campaign, clock.now())
    assert paused.code == "paused"
    assert paused.text == (
        "en pausa: calidad baja; número pruebas frenado hasta hoy 12:00; no envía hasta que se reanude"
    )
    campaign.resume()  # resumed by hand while the brake still holds the number
    campaign.refresh_from_db()
    reason = idle_reason(campaign, clock.now())
    assert reason.code == "sender_braked"
    assert reason.text.startswith("número pruebas frenado hasta hoy 12:00 (calidad baja)")
    assert reason.text.endswith("próximo envío hoy 12:00")


def test_it_says_weekends_and_holidays(make_campaign):
    campaign = make_campaign(3)
    saturday = idle_reason(campaign, at(date(2026, 1, 3), 10))
    assert (saturday.code, saturday.text) == (
        "not_sending_day",
        "no envía los sábados; próximo envío lunes 09:00",
    )
    new_year = idle_reason(campaign, at(date(2026, 1, 1), 10))  # a Thursday, a holiday in Colombia
    assert new_year.code == "holiday"
    assert new_year.text == "hoy es festivo; próximo envío mañana 09:00"


def test_it_says_the_promotion_expired(make_campaign):
    campaign = make_campaign(3, valid_until=date(2026, 1, 5))
    reason = idle_reason(campaign, at(date(2026, 1, 6), 10))
    assert reason.code == "expired"
    assert "la promoción venció el 05/01/2026" in reason.text


def test_it_says_when_nobody_is_pending_paused_or_not_started(make_campaign, clock):
    campaign = make_campaign(3)
    Campaign.objects.filter(pk=campaign.pk).update(pending_count=0)
    campaign.refresh_from_db()
    assert idle_reason(campaign, clock.now()).code == "nothing_pending"
    paused = make_campaign(2)
    paused.pause("revisión del texto")
    paused.refresh_from_db()
    assert (
        idle_reason(paused, clock.now()).text == "en pausa: revisión del texto; no envía hasta que se reanude"
    )
    draft = make_campaign(2, launch=False)
    assert draft.status == CampaignStatus.DRAFT
    assert idle_reason(draft, clock.now()).code == "not_started"


def test_it_says_the_number_is_disconnected(make_campaign, clock):
    campaign = make_campaign(3)
    reason = idle_reason(campaign, clock.now(), disconnected="sesión cerrada")
    assert reason.code == "disconnected"
    assert "no está conectado (sesión cerrada)" in reason.text


def test_its_json_form_has_english_keys(make_campaign):
    campaign = make_campaign(3)
    data = idle_reason(campaign, at(FRIDAY, 7, 30)).as_dict()
    assert set(data) == {"reason", "next_send_at", "used", "limit", "text"}
    assert data["reason"] == "outside_window"
