"""Connecting a WhatsApp-Web number from the dashboard: QR, pairing code, disconnecting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from goteo import health
from goteo.models import MessageStatus, Sender
from tests.dashboard import page_text, sign_in
from tests.fakes import evolution as evo
from tests.fakes.evolution_pairing import PAIRING_CODE as EVOLUTION_CODE
from tests.fakes.evolution_pairing import FakeEvolutionPairing
from tests.fakes.records import evolution_sender, put, waha_sender
from tests.fakes.server import refused_url
from tests.fakes.waha_pairing import PAIRING_CODE as WAHA_CODE
from tests.fakes.waha_pairing import FakeWahaPairing

GATEWAYS = {
    "evolution": (FakeEvolutionPairing, evolution_sender, EVOLUTION_CODE),
    "waha": (FakeWahaPairing, waha_sender, WAHA_CODE),
}


pytestmark = pytest.mark.usefixtures("plain_environment")


@pytest.fixture(params=sorted(GATEWAYS))
def gateway(request, db):
    """A fake gateway and a number pointing at it, for each of Evolution API and WAHA."""
    fake_class, make_sender, code = GATEWAYS[request.param]
    with fake_class() as api:
        yield api, make_sender(base_url=api.url), code


def url(name: str, sender: Sender) -> str:
    return reverse(f"goteo:{name}", args=[sender.pk])


def test_the_numbers_page_links_to_connect_only_gateway_numbers(staff, memory_sender):
    sender = evolution_sender()

    html = staff.get(reverse("goteo:sender_list")).content.decode()

    assert url("sender_pairing", sender) in html
    assert url("sender_pairing", memory_sender) not in html
    assert url("sender_pairing", sender) in staff.get(url("sender_edit", sender)).content.decode()


def test_it_creates_the_session_shows_the_qr_then_the_connected_account(staff, gateway):
    api, sender, _code = gateway
    page = staff.get(url("sender_pairing", sender))
    assert "Conectar WhatsApp" in page_text(page)
    assert 'class="qr"' not in page.content.decode()
    assert "data-refresh-url" not in page.content.decode()  # nothing to wait for yet

    response = staff.post(url("sender_pairing_connect", sender), follow=True)

    html = response.content.decode()
    assert len(api.created) == 1
    assert '<img class="qr" src="data:image/png;base64,' in html
    assert f'data-refresh-url="{url("sender_pairing_status", sender)}"' in html
    assert "Desconectado" in page_text(response)

    api.link("Óptica Central")
    fragment = staff.get(url("sender_pairing_status", sender))

    text = page_text(fragment)
    assert "Conectado" in text
    assert "Óptica Central" in text
    assert "+573009990000" in text
    assert "data-refresh-url" not in fragment.content.decode()  # linked: the polling stops
    assert 'class="qr"' not in fragment.content.decode()


def test_it_gives_a_pairing_code_for_the_number_typed(staff, gateway):
    _api, sender, code = gateway

    response = staff.post(url("sender_pairing_code", sender), {"phone": "300 999 0000"})

    assert response.status_code == 200
    assert code in page_text(response)
    assert "Vincular con el número de teléfono" in page_text(response)


def test_a_wrong_number_for_the_code_is_named_and_nothing_is_asked(staff, gateway):
    api, sender, _code = gateway

    response = staff.post(url("sender_pairing_code", sender), {"phone": "12"})

    assert response.status_code == 400
    assert "teléfono inválido" in page_text(response)
    assert [r for r in api.requests if "code" in r.path or r.query.get("number")] == []


def test_disconnecting_asks_first_then_logs_the_number_out(staff, gateway, clock):
    api, sender, _code = gateway
    staff.post(url("sender_pairing_connect", sender))
    api.link()

    confirm = staff.get(url("sender_pairing_logout", sender))
    assert "¿Desconectar «" in page_text(confirm)
    assert api.requests_to("DELETE") == [] and not [r for r in api.requests if r.path.endswith("/logout")]

    response = staff.post(url("sender_pairing_logout", sender), follow=True)

    text = page_text(response)
    assert "quedó desconectado de WhatsApp" in text
    assert "Conectar WhatsApp" in text
    assert [r for r in api.requests if r.path.endswith(("/logout/optica", "/default/logout"))]
    sender.refresh_from_db()
    assert health.unlinked_at(sender) == clock.now()


def test_an_unreachable_gateway_is_said_plainly_and_never_shown_connected(staff, db):
    sender = waha_sender(base_url=refused_url())

    response = staff.get(url("sender_pairing", sender))

    text = page_text(response)
    assert response.status_code == 200
    assert "No se puede contactar el servidor de WhatsApp en 127.0.0.1" in text
    assert "Conectado" not in text.replace("no está conectado", "")
    assert "data-refresh-url" in response.content.decode()  # it tries again by itself


def test_a_missing_credential_names_what_to_fill_in(staff, db):
    sender = Sender.objects.create(name="sin-clave", backend="evolution", config={"instance": "x"})

    text = page_text(staff.get(url("sender_pairing", sender)))

    assert "le falta" in text
    assert "URL de Evolution API" in text


def test_numbers_on_other_providers_have_no_pairing_page(staff, memory_sender):
    assert staff.get(url("sender_pairing", memory_sender)).status_code == 404


def test_it_is_for_staff_only_and_changes_only_by_post(client, db):
    sender = evolution_sender()
    pages = ["sender_pairing", "sender_pairing_status", "sender_pairing_logout"]

    for name in pages:
        assert client.get(url(name, sender)).status_code == 302  # to the login page
    sign_in(client, "pepe", staff=False)
    for name in pages:
        assert client.get(url(name, sender)).status_code == 403


def test_the_actions_need_post_and_a_csrf_token(db):
    sender = evolution_sender()
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser)

    assert browser.get(url("sender_pairing_connect", sender)).status_code == 405
    assert browser.get(url("sender_pairing_code", sender)).status_code == 405
    for name in ("sender_pairing_connect", "sender_pairing_code", "sender_pairing_logout"):
        assert browser.post(url(name, sender)).status_code == 403


# --- a deliberate disconnection is no ban sign ----------------------------------------------
@pytest.fixture
def just_sent(make_campaign):
    """An Evolution number that sent a message a minute ago."""
    campaign = make_campaign(2, sender=evolution_sender())
    put(campaign.messages.first(), MessageStatus.SENT, sent_at=timezone.now() - timedelta(minutes=1))
    return Sender.objects.get(pk=campaign.sender_id)


def logged_out_report(client):
    body = evo.connection("close", 401)  # Evolution's connection.update after a logout
    return client.post(
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}/", data=json.dumps(body), content_type="application/json"
    )


def test_the_gateways_logout_report_after_disconnecting_from_the_dashboard_does_not_brake(client, just_sent):
    health.unlinked(just_sent, timezone.now())

    assert logged_out_report(client).status_code == 200

    just_sent.refresh_from_db()
    assert not just_sent.is_braked(timezone.now())
    status = health.sender_status(just_sent, timezone.now(), use_cache=False)  # closed: unreachable
    assert not status.connected
    just_sent.refresh_from_db()
    assert not just_sent.is_braked(timezone.now())


def test_the_same_report_without_a_dashboard_disconnection_brakes(client, just_sent):
    logged_out_report(client)

    just_sent.refresh_from_db()
    assert just_sent.is_braked(timezone.now())


def test_a_logout_report_still_brakes_when_the_dashboard_unlink_is_older(client, just_sent):
    health.unlinked(just_sent, timezone.now() - timedelta(hours=1))

    logged_out_report(client)

    just_sent.refresh_from_db()
    assert just_sent.is_braked(timezone.now())


def test_missing_settings_are_not_asked_again_and_again(staff, db):
    sender = Sender.objects.create(name="sin-url", backend="waha", config={})

    response = staff.get(url("sender_pairing_status", sender))

    assert "le falta" in page_text(response)
    assert "data-refresh-url" not in response.content.decode()
