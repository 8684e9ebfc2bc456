"""Linking a number to WAHA against a fake speaking its session and auth calls."""

from __future__ import annotations

import base64

import pytest

from goteo.transports.pairing import CONNECTED, FAILED, IDLE, STARTING, WAITING, PairingError, qr_image
from goteo.transports.waha_pairing import WahaPairing
from tests.fakes.server import HTML_502, Reply, refused_url
from tests.fakes.transport import running
from tests.fakes.waha import SESSION
from tests.fakes.waha_pairing import PAIRING_CODE, FakeWahaPairing

api = running(FakeWahaPairing)


@pytest.fixture
def client(api):
    with WahaPairing(api.config()) as pairing:
        yield pairing


def test_it_reports_a_missing_session_without_creating_it(api, client):
    assert client.look().state == IDLE
    assert api.requests_to("POST") == []


def test_it_creates_and_starts_the_session_and_shows_its_qr_as_base64(api, client):
    pairing = client.connect()

    assert api.created == [{"name": SESSION, "start": True}]
    assert pairing.state == WAITING
    assert base64.b64decode(pairing.qr_image.split(",", 1)[1]).startswith(b"\x89PNG")
    [qr] = api.requests_to("GET", f"/api/{SESSION}/auth/qr")
    assert qr.headers["accept"] == "application/json"


@pytest.mark.parametrize(("status", "call"), [("STOPPED", "start"), ("FAILED", "restart")])
def test_it_starts_a_stopped_session_and_restarts_a_failed_one(api, client, status, call):
    api.exists = True
    api.status = status
    assert client.look().state == (IDLE if status == "STOPPED" else FAILED)

    pairing = client.connect()

    assert len(api.requests_to("POST", f"/api/sessions/{SESSION}/{call}")) == 1
    assert pairing.state == WAITING


def test_a_qr_that_is_gone_when_asked_is_a_moment_of_waiting(api, client):
    client.connect()
    api.fail_next(
        Reply(
            422,
            {
                "error": "Session status is not as expected. Try again later or restart the session",
                "session": SESSION,
                "status": "STARTING",
                "expected": ["SCAN_QR_CODE"],
            },
        ),
        when=lambda r: r.path.endswith("/auth/qr"),
    )

    assert client.look().state == STARTING


def test_it_shows_the_linked_account_once_scanned(api, client):
    client.connect()
    api.link("Óptica Central")

    pairing = client.look()

    assert pairing.state == CONNECTED
    assert (pairing.account_name, pairing.account_number) == ("Óptica Central", "+573009990000")


def test_it_asks_for_a_pairing_code_with_the_digits_of_the_number(api, client):
    pairing = client.request_code("+57 300 999 0000")

    assert pairing.code == PAIRING_CODE
    [asked] = api.requests_to("POST", f"/api/{SESSION}/auth/request-code")
    assert asked.json() == {"phoneNumber": "573009990000"}


def test_it_says_so_when_the_gateway_gives_no_pairing_code(api, client):
    api.fail_next(
        Reply(422, {"message": "Pairing code is not supported by this engine", "statusCode": 422}),
        when=lambda r: r.path.endswith("/request-code"),
    )

    with pytest.raises(PairingError, match="no entregó un código"):
        client.request_code("+573009990000")


def test_logging_out_stops_the_session_so_no_new_qr_appears(api, client):
    client.connect()
    api.link()

    pairing = client.logout()

    assert pairing.state == IDLE
    assert api.status == "STOPPED"
    paths = [r.path for r in api.requests_to("POST")]
    assert paths[-2:] == [f"/api/sessions/{SESSION}/logout", f"/api/sessions/{SESSION}/stop"]


def test_a_5xx_or_an_unreachable_gateway_is_never_connected(api, client):
    api.fail_next(HTML_502)
    with pytest.raises(PairingError, match="respondió con un error"):
        client.look()
    with (
        WahaPairing({"base_url": refused_url(), "session": SESSION}) as gone,
        pytest.raises(PairingError, match="No se puede contactar"),
    ):
        gone.look()


def test_only_image_data_uris_reach_the_page():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()

    assert qr_image(png, "image/png") == f"data:image/png;base64,{png}"
    assert qr_image(f"data:image/png;base64,{png}") == f"data:image/png;base64,{png}"
    assert qr_image(png, "text/html") == ""
    assert qr_image('data:image/png;base64,AAA" onerror="x') == ""
    assert qr_image("2@raw-qr-value,not-an-image") == ""
    assert qr_image(None) == ""
