"""``goteo process_campaigns`` says why each campaign sent nothing, and when it will."""

import json
from datetime import datetime, time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from goteo.clock import SimulatedClock
from tests.conftest import BOGOTA, FRIDAY

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def early(monkeypatch):
    """Friday 07:30 in Bogotá, before the 09:00 window opens."""
    clock = SimulatedClock(datetime.combine(FRIDAY, time(7, 30), tzinfo=BOGOTA))
    monkeypatch.setattr("goteo.management.commands.process_campaigns.SystemClock", lambda: clock)
    return clock


def run(*args):
    out = StringIO()
    call_command("process_campaigns", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_says_why_a_campaign_outside_its_window_sent_nothing(make_campaign, early):
    campaign = make_campaign(3)
    out = run()
    assert "Listo: 0 enviados, 0 para reintentar, 0 fallidos, 0 sin confirmar." in out
    assert f"{campaign.name}: fuera del horario (09:00 a 19:00); próximo envío hoy 09:00" in out


def test_it_gives_the_reason_in_json_with_english_keys(make_campaign, early):
    campaign = make_campaign(3)
    data = json.loads(run("--json"))
    assert data["sent"] == 0
    assert data["idle"] == [
        {
            "id": campaign.pk,
            "name": campaign.name,
            "reason": "outside_window",
            "next_send_at": "2026-01-02T09:00:00-05:00",
            "used": None,
            "limit": None,
            "text": "fuera del horario (09:00 a 19:00); próximo envío hoy 09:00",
        }
    ]


def test_it_explains_a_campaign_asked_for_by_id_that_is_not_active(make_campaign, early):
    draft = make_campaign(2, launch=False)
    out = run("--campaign", str(draft.pk))
    assert f"{draft.name}: en borrador: todavía no se ha iniciado" in out


def test_it_says_singular_counts_in_singular(make_campaign, clock, monkeypatch):
    monkeypatch.setattr("goteo.management.commands.process_campaigns.SystemClock", lambda: clock)
    make_campaign(1)
    assert "Listo: 1 enviado, 0 para reintentar, 0 fallidos" in run()


def test_it_refuses_a_campaign_that_does_not_exist(db):
    with pytest.raises(CommandError, match="No existe la campaña 999"):
        run("--campaign", "999")


def test_it_says_when_there_is_no_active_campaign(db, early):
    assert "No hay campañas activas." in run()


def test_its_dry_run_says_why_nobody_would_receive_now(make_campaign, early):
    campaign = make_campaign(3)
    out = run("--dry-run")
    assert (
        f"{campaign.name}: nadie recibe ahora: fuera del horario (09:00 a 19:00); próximo envío hoy 09:00"
        in out
    )
    data = json.loads(run("--dry-run", "--json"))
    assert data["campaigns"][0]["idle"]["reason"] == "outside_window"
