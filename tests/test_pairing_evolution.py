"""Linking a number to Evolution API (v2) against a fake speaking its instance calls."""

from __future__ import annotations

import base64

import pytest

from goteo.transports.evolution_pairing import WEBHOOK_EVENTS, EvolutionPairing
from goteo.transports.pairing import CONNECTED, FAILED, IDLE, WAITING, PairingError
from tests.fakes.evolution import INSTANCE, WEBHOOK_SECRET
from tests.fakes.evolution_pairing import PAIRING_CODE, FakeEvolutionPairing
from tests.fakes.server import DROP, HANG, HTML_502, Reply, refused_url
from tests.fakes.transport import running

api = running(FakeEvolutionPairing)


@pytest.fixture
def client(api):
    with EvolutionPairing(api.config(webhook_secret=WEBHOOK_SECRET)) as pairing:
        yield pairing


def test_it_reports_a_missing_instance_without_creating_it(api, client):
    pairing = client.look()

    assert pairing.state == IDLE
    assert api.requests_to("POST") == []


def test_it_creates_the_missing_instance_and_shows_its_qr(api, client, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", "https://promos.example.com/")

    pairing = client.connect()

    assert pairing.state == WAITING
    assert pairing.qr_image.startswith("data:image/png;base64,")
    assert base64.b64decode(pairing.qr_image.split(",", 1)[1]).startswith(b"\x89PNG")
    [created] = api.created
    assert created["instanceName"] == INSTANCE
    assert created["integration"] == "WHATSAPP-BAILEYS"
    assert created["qrcode"] is False
    assert created["webhook"] == {
        "url": f"https://promos.example.com/webhooks/evolution/{WEBHOOK_SECRET}/",
        "byEvents": False,
        "base64": False,
        "events": WEBHOOK_EVENTS,
    }
    assert api.state == "connecting"


def test_it_creates_without_a_webhook_when_goteo_has_no_public_address(api, client, monkeypatch):
    monkeypatch.delenv("GOTEO_PUBLIC_URL", raising=False)

    client.connect()

    assert "webhook" not in api.created[0]


def test_it_keeps_showing_the_qr_while_waiting_then_the_linked_account(api, client):
    client.connect()
    assert client.look().state == WAITING
    assert len(api.created) == 1

    api.link("Óptica Central")
    pairing = client.look()

    assert pairing.state == CONNECTED
    assert pairing.account_name == "Óptica Central"
    assert pairing.account_number == "+573009990000"
    assert pairing.qr_image == ""


def test_it_asks_for_a_pairing_code_reopening_a_connection_that_waits_for_its_qr(api, client):
    client.connect()  # connecting, QR shown: Evolution only gives a code on a fresh connection

    pairing = client.request_code("+57 300 999 0000")

    assert pairing.code == PAIRING_CODE
    assert len(api.requests_to("DELETE", "/instance/logout/")) == 1
    [asked] = [r for r in api.requests_to("GET", "/instance/connect/") if r.query]
    assert asked.query == {"number": ["573009990000"]}


def test_it_says_so_when_no_pairing_code_comes(api, client):
    api.fail_next(
        Reply(200, {"pairingCode": None, "code": "2@x", "base64": None, "count": 1}),
        when=lambda r: r.path.startswith("/instance/connect/"),
    )
    api.exists = True

    with pytest.raises(PairingError, match="no entregó un código"):
        client.request_code("+573009990000")


def test_it_logs_out_a_linked_number(api, client):
    client.connect()
    api.link()

    pairing = client.logout()

    assert pairing.state == IDLE
    assert api.state == "close"
    assert len(api.requests_to("DELETE", f"/instance/logout/{INSTANCE}")) == 1


def test_logging_out_a_closed_instance_asks_nothing_more(api, client):
    api.exists = True

    assert client.logout().state == IDLE
    assert api.requests_to("DELETE") == []


def test_a_refused_connection_is_a_failure_not_a_wait(api, client):
    api.exists = True
    api.state = "refused"

    assert client.look().state == FAILED


@pytest.mark.parametrize("fault", [DROP, HANG, HTML_502])
def test_a_gateway_that_fails_is_reported_never_connected(api, client, fault):
    api.hang_seconds = 0.5
    client.client.timeout = client.client.timeout.__class__(0.3)
    api.fail_next(fault)

    with pytest.raises(PairingError, match="servidor de WhatsApp"):
        client.look()


def test_an_unreachable_gateway_is_said_plainly():
    with (
        EvolutionPairing({"base_url": refused_url(), "api_key": "k", "instance": INSTANCE}) as client,
        pytest.raises(PairingError, match="No se puede contactar el servidor de WhatsApp"),
    ):
        client.look()


def test_a_wrong_key_is_named(api):
    with (
        EvolutionPairing(api.config(api_key="otra")) as client,
        pytest.raises(PairingError, match="rechazó la clave de acceso"),
    ):
        client.connect()


def test_it_reads_the_qr_wrapped_with_the_instance_in_other_states(api, client):
    api.exists = True
    api.state = "refused"
    api.qr_count = 3

    pairing = client.connect()

    assert pairing.state == WAITING
    assert pairing.qr_image.startswith("data:image/png;base64,iVBOR")
