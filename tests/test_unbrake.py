"""A person lifts a brake, from the console or the dashboard, and it is recorded who and when."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from goteo.models import Campaign, CampaignStatus, MessageStatus, Sender
from goteo.risk import BAD, brake_if_risky, sender_risk
from goteo.sending import Engine
from tests.dashboard import make_user, page_text, pin_page_clock, sign_in
from tests.fakes.records import cloud_sender, evolution_sender
from tests.fakes.server import refused_url

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Freno automático: WhatsApp cerró la sesión del número (se desvinculó el dispositivo)"


def command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def braked(sender: Sender, now) -> Sender:
    sender.brake(REASON, now + timedelta(hours=8), now=now)
    sender.refresh_from_db()
    return sender


# --- console ---------------------------------------------------------------------------------------
def test_unbrake_lifts_the_brake_by_name_and_records_who_and_when(make_campaign, memory_sender, monkeypatch):
    monkeypatch.setattr("goteo.brakes.getpass.getuser", lambda: "ana")
    now = timezone.now()
    campaign = make_campaign(3)
    braked(memory_sender, now)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED

    out = command("unbrake", "pruebas")

    memory_sender.refresh_from_db()
    assert not memory_sender.is_braked(timezone.now())
    assert memory_sender.pause_reason == ""
    lift = memory_sender.brake_log[-1]
    assert (lift["kind"], lift["by"], lift["reason"]) == ("lift", "ana", REASON)
    assert now <= datetime.fromisoformat(lift["at"]) <= timezone.now()
    assert "Freno levantado: el número «pruebas» puede volver a enviar" in out
    assert "Anotado a nombre de ana" in out
    assert f"Siguen en pausa: {campaign.name} (#{campaign.pk})" in out
    assert "goteo resume_campaign" in out


def test_unbrake_records_consola_when_the_user_cannot_be_told(memory_sender, monkeypatch):
    def unknown() -> str:
        raise OSError("no user")

    monkeypatch.setattr("goteo.brakes.getpass.getuser", unknown)
    braked(memory_sender, timezone.now())

    command("unbrake", "pruebas")

    memory_sender.refresh_from_db()
    assert memory_sender.brake_log[-1]["by"] == "consola"


def test_unbrake_finds_the_number_by_its_phone(db):
    # Meta's display number as the Graph API gives it (developers.facebook.com phone number fields).
    sender = cloud_sender()
    sender.health = {"extra": {"display_phone_number": "+57 300 555 0101"}}
    sender.save()
    braked(sender, timezone.now())

    command("unbrake", "+573005550101")

    sender.refresh_from_db()
    assert not sender.is_braked(timezone.now())


def test_unbrake_says_so_when_there_is_nothing_to_lift_or_no_such_number(memory_sender):
    assert "no está frenado" in command("unbrake", "pruebas")
    with pytest.raises(CommandError, match="No hay ningún número llamado o con teléfono «otro»"):
        command("unbrake", "otro")


def test_a_lifted_number_sends_again_once_its_campaign_is_resumed(make_campaign, memory_sender, clock):
    campaign = make_campaign(3)
    braked(memory_sender, timezone.now())  # the console reads the real time
    command("unbrake", "pruebas")
    command("resume_campaign", str(campaign.pk))

    Engine(clock, max_wait=0).run()

    assert campaign.messages.filter(status=MessageStatus.SENT).count() == 1


def test_goteos_risk_brake_does_not_overrule_a_person_who_lifted_the_brakes(memory_sender, clock):
    now = clock.now()
    memory_sender.brake(REASON, now - timedelta(hours=2), now=now - timedelta(hours=3))  # over already
    braked(memory_sender, now - timedelta(minutes=5))
    assert sender_risk(memory_sender, now).level == BAD  # two provider brakes today

    assert memory_sender.lift_brake("ana", now=now)
    risk = brake_if_risky(memory_sender, now)

    memory_sender.refresh_from_db()
    assert risk.level != BAD
    assert not memory_sender.is_braked(now)


# --- resume_campaign on a braked number ------------------------------------------------------------
def test_resume_campaign_says_the_number_is_still_braked_and_how_to_lift_it(make_campaign, memory_sender):
    campaign = make_campaign(3)
    braked(memory_sender, timezone.now())

    out = command("resume_campaign", str(campaign.pk))

    assert f"Campaña {campaign.name} reanudada." in out
    assert "Pero el número «pruebas» está frenado hasta el" in out
    assert "no enviará nada hasta entonces" in out
    assert "goteo unbrake pruebas" in out


def test_resume_campaign_says_nothing_more_when_the_number_is_free(make_campaign, memory_sender):
    campaign = make_campaign(3)
    campaign.pause(reason="una pausa")

    out = command("resume_campaign", str(campaign.pk))

    assert "frenado" not in out


# --- dashboard -------------------------------------------------------------------------------------
def test_the_numbers_page_offers_to_lift_a_brake_and_asks_first(staff, memory_sender, clock):
    braked(memory_sender, clock.now())

    listing = staff.get(reverse("goteo:sender_list")).content.decode()
    confirm = page_text(staff.get(reverse("goteo:sender_unbrake", args=[memory_sender.pk])))

    assert reverse("goteo:sender_unbrake", args=[memory_sender.pk]) in listing
    assert "Levantar freno" in listing
    assert "¿Levantar el freno de «pruebas»?" in confirm
    assert REASON in confirm
    memory_sender.refresh_from_db()
    assert memory_sender.is_braked(clock.now())  # a GET changes nothing


def test_the_dashboard_lifts_a_brake_and_records_the_person(staff, make_campaign, memory_sender, clock):
    make_campaign(3)
    braked(memory_sender, clock.now())

    response = staff.post(reverse("goteo:sender_unbrake", args=[memory_sender.pk]), follow=True)

    memory_sender.refresh_from_db()
    assert not memory_sender.is_braked(clock.now())
    lift = memory_sender.brake_log[-1]
    assert (lift["kind"], lift["by"], lift["at"]) == ("lift", "ana", clock.now().isoformat())
    text = page_text(response)
    assert "Freno levantado: «pruebas» puede volver a enviar." in text
    assert "reanude cada una con su botón «Reanudar»" in text
    assert "Levantar freno" not in text


def test_the_dashboard_lift_needs_the_csrf_token(memory_sender, clock, monkeypatch):
    pin_page_clock(monkeypatch, clock)
    client = Client(enforce_csrf_checks=True)
    sign_in(client)
    braked(memory_sender, clock.now())

    response = client.post(reverse("goteo:sender_unbrake", args=[memory_sender.pk]))

    memory_sender.refresh_from_db()
    assert response.status_code == 403
    assert memory_sender.is_braked(clock.now())


def test_the_dashboard_lift_is_refused_to_non_staff(client, memory_sender, clock, monkeypatch):
    pin_page_clock(monkeypatch, clock)
    sign_in(client, "beto", staff=False)
    braked(memory_sender, clock.now())

    response = client.post(reverse("goteo:sender_unbrake", args=[memory_sender.pk]))

    memory_sender.refresh_from_db()
    assert response.status_code == 403
    assert memory_sender.is_braked(clock.now())


def test_resuming_on_the_dashboard_names_the_button_to_lift_the_brake(
    staff, make_campaign, memory_sender, clock
):
    campaign = make_campaign(3)
    braked(memory_sender, clock.now())

    response = staff.post(reverse("goteo:campaign_resume", args=[campaign.pk]), follow=True)

    text = page_text(response)
    assert "Pero el número «pruebas» está frenado hasta el" in text
    assert "botón «Levantar freno»" in text
    assert "goteo unbrake" not in text


# --- admin -----------------------------------------------------------------------------------------
def test_the_admin_lifts_a_brake_with_the_recorded_action_not_by_editing_the_date(client, memory_sender):
    braked(memory_sender, timezone.now())
    client.force_login(make_user("root", superuser=True))

    change = client.get(reverse("admin:goteo_sender_change", args=[memory_sender.pk])).content.decode()
    client.post(
        reverse("admin:goteo_sender_changelist"),
        {"action": "unbrake", "_selected_action": [memory_sender.pk]},
    )

    assert 'name="paused_until' not in change
    memory_sender.refresh_from_db()
    assert not memory_sender.is_braked(timezone.now())
    assert memory_sender.brake_log[-1]["by"] == "root"


def test_the_numbers_page_tells_an_unreachable_gateway_from_a_disconnected_one(staff, db):
    evolution_sender(base_url=refused_url())

    text = page_text(staff.get(reverse("goteo:sender_list")))

    assert "Sin respuesta" in text
    assert "Desconectado" not in text
    assert "no se puede verificar ahora" in text
