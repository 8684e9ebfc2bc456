"""The Evolution API transport against a fake Evolution server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from goteo.models import Sender
from goteo.transports import SendError, transport_for
from goteo.transports.evolution import EvolutionTransport
from goteo.transports.gateway import TYPING_MIN_MS, typing_ms
from tests.fakes.evolution import API_KEY, INSTANCE, FakeEvolution, envelope
from tests.fakes.server import DROP, HANG, HTML_502, refused_url
from tests.fakes.transport import TEXT, outgoing, running

api = running(FakeEvolution)


def test_it_sends_text_to_the_digits_with_a_typing_delay(api):
    provider_id = EvolutionTransport(api.config()).send(outgoing())

    [request] = api.requests
    assert request.method == "POST"
    assert request.path == f"/message/sendText/{INSTANCE}"
    assert request.headers["apikey"] == API_KEY
    assert request.json() == {
        "number": "573001112233",
        "text": TEXT,
        "delay": typing_ms(TEXT),
        "linkPreview": False,
    }
    assert provider_id == api.sent[0]["id"]


def test_it_sends_without_delay_when_typing_is_off(api):
    EvolutionTransport(api.config(typing=False)).send(outgoing())

    assert "delay" not in api.requests[0].json()


def test_it_waits_through_the_typing_delay_beyond_the_read_timeout(api):
    api.delay_scale = 1.0
    started = time.monotonic()

    provider_id = EvolutionTransport(api.config(read_timeout=0.5)).send(outgoing())

    assert provider_id
    assert time.monotonic() - started >= TYPING_MIN_MS / 1000


def test_it_fails_permanently_for_a_number_without_whatsapp(api):
    api.not_on_whatsapp.add("573001112233")

    with pytest.raises(SendError) as raised:
        EvolutionTransport(api.config()).send(outgoing())

    assert raised.value.kind == SendError.PERMANENT
    assert raised.value.code == "exists:false"


@pytest.mark.parametrize("state", ["close", "connecting"])
def test_it_stops_when_the_session_is_closed(api, state):
    api.state = state

    with pytest.raises(SendError) as raised:
        EvolutionTransport(api.config()).send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED


def test_a_session_that_closes_right_after_sending_is_a_disconnection_not_a_brake(api):
    transport = EvolutionTransport(api.config())
    transport.send(outgoing())
    api.state = "close"  # Evolution says only "Connection Closed": no logout or ban reason

    with pytest.raises(SendError) as raised:
        transport.send(outgoing(to="+573004445566"))

    assert raised.value.kind == SendError.DISCONNECTED
    assert "bloqueado" not in raised.value.reason


def test_it_reports_a_wrong_api_key_as_disconnected(api):
    with pytest.raises(SendError) as raised:
        EvolutionTransport(api.config(api_key="wrong")).send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED


def test_it_reports_an_unknown_instance_as_disconnected(api):
    with pytest.raises(SendError) as raised:
        EvolutionTransport(api.config(instance="otra")).send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED
    assert "otra" in raised.value.reason


@pytest.mark.parametrize("fault", [envelope(400, ["Error: something inside the send"]), HTML_502, HANG, DROP])
def test_it_marks_unknown_a_failure_after_the_request_went_out(api, fault):
    api.fail_next(fault)

    with pytest.raises(SendError) as raised:
        EvolutionTransport(api.config(typing=False, read_timeout=0.3)).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN


def test_it_retries_when_the_connection_is_refused():
    config = {"base_url": refused_url(), "api_key": API_KEY, "instance": INSTANCE}

    with pytest.raises(SendError) as raised:
        EvolutionTransport(config).send(outgoing())

    assert raised.value.kind == SendError.RETRY


def test_it_reports_an_open_session_as_connected(api):
    status = EvolutionTransport(api.config()).check_connection()

    assert status.connected is True
    assert api.requests[0].path == f"/instance/connectionState/{INSTANCE}"
    assert api.requests[0].headers["apikey"] == API_KEY


@pytest.mark.parametrize(("state", "words"), [("close", "QR"), ("connecting", "conectando")])
def test_it_reports_a_session_that_is_not_open(api, state, words):
    api.state = state

    status = EvolutionTransport(api.config()).check_connection()

    assert status.connected is False
    assert words in status.detail


def test_it_reports_a_wrong_api_key_as_not_connected(api):
    status = EvolutionTransport(api.config(api_key="nope")).check_connection()

    assert status.connected is False
    assert "apikey" in status.detail


@pytest.mark.django_db
def test_it_reads_evolution_settings_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "evolution")
    monkeypatch.setenv("EVOLUTION_BASE_URL", api.url)
    monkeypatch.setenv("EVOLUTION_API_KEY", API_KEY)
    monkeypatch.setenv("EVOLUTION_INSTANCE", INSTANCE)
    monkeypatch.setenv("WHATSAPP_TYPING", "0")

    transport_for(Sender.get_default()).send(outgoing())

    assert api.requests[0].json()["number"] == "573001112233"
    assert "delay" not in api.requests[0].json()
