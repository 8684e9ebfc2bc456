"""Steering a campaign from its page: start, pause, resume, cancel, retry failed, test message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from goteo.models import CampaignStatus, Message, MessageStatus
from goteo.sending import Engine
from goteo.transports.base import SendError
from goteo.transports.memory import MemoryTransport
from tests.dashboard import page_text


def act(staff, name, campaign, data=None):
    return staff.post(reverse(name, args=[campaign.pk]), data or {}, follow=True)


def test_it_starts_a_draft(staff, make_campaign):
    draft = make_campaign(5, launch=False)

    text = page_text(act(staff, "goteo:campaign_start", draft))

    draft.refresh_from_db()
    assert draft.status == CampaignStatus.ACTIVE
    assert draft.pending_count == 5
    assert "Campaña iniciada: 5 mensajes por enviar, 0 omitidos." in text


def test_it_does_not_start_a_campaign_twice(staff, make_campaign):
    campaign = make_campaign(5)

    text = page_text(act(staff, "goteo:campaign_start", campaign))

    assert "ya fue iniciada" in text
    assert campaign.messages.count() == 5


def test_it_pauses_and_resumes(staff, make_campaign):
    campaign = make_campaign(5)

    paused = page_text(act(staff, "goteo:campaign_pause", campaign))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign.pause_reason == "Pausada por ana desde el panel"
    assert "Estado: Pausada" in paused
    assert "Reanudar" in paused

    resumed = page_text(act(staff, "goteo:campaign_resume", campaign))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert "Estado: En progreso" in resumed


def test_it_says_when_there_is_nothing_to_pause(staff, make_campaign):
    draft = make_campaign(2, launch=False)

    assert "Solo se puede pausar una campaña en progreso." in page_text(
        act(staff, "goteo:campaign_pause", draft)
    )
    assert "Solo se puede reanudar una campaña pausada." in page_text(
        act(staff, "goteo:campaign_resume", draft)
    )


def test_it_asks_before_cancelling(staff, make_campaign):
    campaign = make_campaign(5)

    response = staff.get(reverse("goteo:campaign_cancel", args=[campaign.pk]))

    assert "¿Cancelar «" in page_text(response)
    assert "Los 5 mensajes pendientes quedarán omitidos" in page_text(response)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_it_cancels_after_confirmation(staff, make_campaign):
    campaign = make_campaign(5)

    text = page_text(act(staff, "goteo:campaign_cancel", campaign))

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert campaign.skipped_count == 5
    assert "Campaña cancelada: 5 mensajes pendientes quedaron omitidos." in text


def test_it_retries_failed_messages(staff, make_campaign, clock):
    campaign = make_campaign(4)

    def fail(message):
        raise SendError(SendError.PERMANENT, "número sin WhatsApp")

    MemoryTransport.script = fail
    Engine(clock, max_wait=3600).run([campaign.pk])
    campaign.refresh_from_db()
    assert campaign.failed_count == 4
    assert campaign.status == CampaignStatus.COMPLETED

    text = page_text(act(staff, "goteo:campaign_retry_failed", campaign))

    campaign.refresh_from_db()
    assert campaign.pending_count == 4
    assert campaign.status == CampaignStatus.ACTIVE
    assert "4 mensajes fallidos vuelven a la cola." in text


def test_it_shows_the_test_message_form_with_the_campaign_text(staff, make_campaign):
    campaign = make_campaign(2)

    text = page_text(staff.get(reverse("goteo:campaign_test_message", args=[campaign.pk])))

    assert "Enviar un mensaje de prueba" in text
    assert "¡Hola Cliente! 30% de descuento con el código PROMO1" in text


def test_it_sends_a_test_message(staff, make_campaign):
    campaign = make_campaign(2)

    response = staff.post(
        reverse("goteo:campaign_test_message", args=[campaign.pk]),
        {"phone": "300 978 7566", "text": "Prueba de goteo"},
    )

    assert [(m.to, m.text) for m in MemoryTransport.outbox] == [("+573009787566", "Prueba de goteo")]
    assert "✅ Enviado." in page_text(response)
    assert "mem-1" not in page_text(response)  # the provider's id means nothing to the shop
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 0


def test_it_shows_why_a_test_message_failed(staff, make_campaign):
    campaign = make_campaign(2)
    MemoryTransport.connected = False

    response = staff.post(
        reverse("goteo:campaign_test_message", args=[campaign.pk]),
        {"phone": "3009787566", "text": "Prueba"},
    )

    assert "No se pudo enviar: WhatsApp desconectado" in page_text(response)
    assert MemoryTransport.outbox == []


def test_it_refuses_an_invalid_test_number(staff, make_campaign):
    campaign = make_campaign(2)

    response = staff.post(
        reverse("goteo:campaign_test_message", args=[campaign.pk]), {"phone": "123", "text": "Prueba"}
    )

    assert "teléfono inválido" in page_text(response)
    assert MemoryTransport.outbox == []


@pytest.mark.parametrize(
    "name",
    ["goteo:campaign_start", "goteo:campaign_pause", "goteo:campaign_resume", "goteo:campaign_retry_failed"],
)
def test_it_changes_nothing_on_a_get(staff, make_campaign, name):
    campaign = make_campaign(2)

    assert staff.get(reverse(name, args=[campaign.pk])).status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
