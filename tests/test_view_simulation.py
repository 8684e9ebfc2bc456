"""Test mode on the dashboard: the start checkbox, and simulated messages shown apart."""

from __future__ import annotations

from io import StringIO

import pytest
from django.urls import reverse

from goteo.launch import campaign_launch
from goteo.models import CampaignStatus, Contact
from goteo.sending import Engine
from goteo.transports.console import ConsoleTransport
from tests.dashboard import page_text
from tests.test_view_campaign_form import form_data


@pytest.fixture
def simulated(make_campaign, console_sender, clock):
    """A simulation on a number in test mode, five messages printed."""
    campaign = make_campaign(5, launch=False, sender=console_sender, delay_seconds=0)
    campaign_launch(campaign, clock.now(), simulate=True)
    Engine(clock, max_wait=3600, transport_factory=lambda s: ConsoleTransport({"stream": StringIO()})).run()
    campaign.refresh_from_db()
    return campaign


def test_the_draft_page_warns_of_test_mode_and_offers_a_simulation(staff, make_campaign, console_sender):
    draft = make_campaign(5, launch=False, sender=console_sender)

    response = staff.get(reverse("goteo:campaign_detail", args=[draft.pk]))

    text = page_text(response)
    assert "El número está en modo de prueba: los mensajes no salen por WhatsApp." in text
    assert "Iniciar como simulación (nada sale por WhatsApp)" in text
    assert 'name="simulate"' in response.content.decode()
    assert "Modo de prueba: los mensajes no salen por WhatsApp" in text  # the number's card
    assert "● Conectado" not in text


def test_starting_without_the_checkbox_is_refused(staff, make_campaign, console_sender):
    draft = make_campaign(5, launch=False, sender=console_sender)

    response = staff.post(reverse("goteo:campaign_start", args=[draft.pk]), follow=True)

    text = page_text(response)
    assert "está en modo de prueba" in text and "«Conectar WhatsApp»" in text
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT and draft.total_count == 0


def test_starting_with_the_checkbox_simulates(staff, make_campaign, console_sender):
    draft = make_campaign(5, launch=False, sender=console_sender)

    staff.post(reverse("goteo:campaign_start", args=[draft.pk]), {"simulate": "1"}, follow=True)

    draft.refresh_from_db()
    assert draft.status == CampaignStatus.ACTIVE and draft.simulation is True


def test_the_new_campaign_form_launches_a_simulation_only_when_ticked(staff, console_sender):
    Contact.objects.create(full_name="Daniel Osorio", phone="+573009787566", consent=True)
    refused = staff.post(
        reverse("goteo:campaign_new"), form_data(console_sender, action="launch"), follow=True
    )
    assert "está en modo de prueba" in page_text(refused)
    assert 'name="simulate"' in staff.get(reverse("goteo:campaign_new")).content.decode()

    ticked = staff.post(
        reverse("goteo:campaign_new"),
        form_data(console_sender, action="launch", name="Ensayo", new_promotion_code="ENSAYO", simulate="1"),
        follow=True,
    )
    assert "Campaña iniciada" in page_text(ticked)

    statuses = dict(console_sender.campaigns.values_list("name", "status"))
    assert statuses == {"Navidad 2026": CampaignStatus.DRAFT, "Ensayo": CampaignStatus.ACTIVE}
    assert console_sender.campaigns.get(name="Ensayo").simulation is True


def test_the_campaign_page_shows_simulated_apart_from_sent(staff, simulated):
    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[simulated.pk])))

    assert "Simulación — modo de prueba: los mensajes no salen por WhatsApp." in text
    assert "Enviados: 0 de 5 (0%)" in text
    assert "Simulados (nadie los recibió): 5 (100%)" in text


def test_the_list_marks_a_simulation(staff, simulated):
    text = page_text(staff.get(reverse("goteo:campaign_list")))

    assert "🧪 Simulación" in text
    assert "Simulados: 5 (100%)" in text and "Enviados: 0 de 5 (0%)" in text


def test_the_recipients_page_lists_simulated_messages_as_not_sent(staff, simulated):
    url = reverse("goteo:campaign_recipients", args=[simulated.pk])

    text = page_text(staff.get(url + "?estado=simulated"))

    assert "Simulado" in text
    assert text.count("no salió: simulación") == 5


def test_the_numbers_page_marks_a_number_in_test_mode(staff, console_sender):
    text = page_text(staff.get(reverse("goteo:sender_list")))

    assert "Modo de prueba: no sale por WhatsApp" in text
    assert "los mensajes solo se imprimen; no salen por WhatsApp" in text


def test_a_test_message_on_a_number_in_test_mode_is_said_simulated(
    staff, make_campaign, console_sender, capsys
):
    campaign = make_campaign(1, launch=False, sender=console_sender)
    url = reverse("goteo:campaign_test_message", args=[campaign.pk])

    text = page_text(staff.post(url, {"phone": "+573009787566", "text": "Hola"}))

    assert (
        "Simulado: el número está en modo de prueba; el mensaje se imprimió y no salió por WhatsApp." in text
    )
    assert "Enviado." not in text
    assert "--- WhatsApp a" in capsys.readouterr().out
