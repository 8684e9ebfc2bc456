"""The WAHA transport against a fake WAHA server on 127.0.0.1."""

from __future__ import annotations

import pytest

from goteo.models import Sender
from goteo.transports import SendError, transport_for
from goteo.transports.gateway import typing_ms
from goteo.transports.waha import WahaTransport
from tests.fakes.server import DROP, HANG, HTML_502, Reply, refused_url
from tests.fakes.transport import TEXT, outgoing, running
from tests.fakes.waha import API_KEY, SESSION, FakeWaha

api = running(FakeWaha)


def waha(api, **extra) -> tuple[WahaTransport, list[float]]:
    transport = WahaTransport(api.config(**extra))
    pauses: list[float] = []
    transport.sleep = pauses.append
    return transport, pauses


def is_send(request) -> bool:
    return request.path == "/api/sendText"


def test_it_checks_the_number_types_pauses_and_sends_to_the_chat_id(api):
    transport, pauses = waha(api)

    provider_id = transport.send(outgoing())

    assert [(r.method, r.path) for r in api.requests] == [
        ("GET", "/api/contacts/check-exists"),
        ("POST", "/api/startTyping"),
        ("POST", "/api/stopTyping"),
        ("POST", "/api/sendText"),
    ]
    assert api.requests[0].query == {"phone": ["573001112233"], "session": [SESSION]}
    assert api.requests[1].json() == {"session": SESSION, "chatId": "573001112233@c.us"}
    assert api.requests[3].json() == {
        "session": SESSION,
        "chatId": "573001112233@c.us",
        "text": TEXT,
        "linkPreview": False,
    }
    assert all(r.headers["x-api-key"] == API_KEY for r in api.requests)
    assert pauses == [typing_ms(TEXT) / 1000]
    assert provider_id == api.sent[0]["id"]


def test_it_sends_straight_away_when_typing_and_checking_are_off(api):
    transport, pauses = waha(api, typing=False, check_exists=False)

    transport.send(outgoing())

    assert [r.path for r in api.requests] == ["/api/sendText"]
    assert pauses == []


def test_it_fails_permanently_for_a_number_without_whatsapp_and_sends_nothing(api):
    api.not_on_whatsapp.add("573001112233")
    transport, _ = waha(api)

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.kind == SendError.PERMANENT
    assert not any(is_send(r) for r in api.requests)


@pytest.mark.parametrize("status", ["STARTING", "SCAN_QR_CODE", "FAILED", "STOPPED"])
def test_it_stops_when_the_session_is_not_working(api, status):
    api.status = status
    transport, _ = waha(api, check_exists=False)

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED
    assert raised.value.code == "http422"
    assert not any(is_send(r) for r in api.requests)


def test_a_session_that_drops_right_after_sending_is_a_disconnection_not_a_brake(api):
    transport, _ = waha(api)
    transport.send(outgoing())
    api.status = "FAILED"  # WAHA gives no logout or ban reason, only the session's status

    with pytest.raises(SendError) as raised:
        transport.send(outgoing(to="+573004445566"))

    assert raised.value.kind == SendError.DISCONNECTED


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("WEBJS", "true_573001112233@c.us_{id}"), ("NOWEB", "{id}"), ("EMPTY", "")],
)
def test_it_reads_the_id_of_each_engine_and_allows_an_empty_answer(api, engine, expected):
    api.engine = engine
    transport, _ = waha(api)

    provider_id = transport.send(outgoing())

    assert provider_id == expected.format(id=api.sent[0]["id"])


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (Reply(500, {"exception": {"message": "Connection Closed"}}), SendError.DISCONNECTED),
        (Reply(500, {"message": "2 UNKNOWN: server returned error 463"}), SendError.RETRY),
        (Reply(500, {"message": "boom"}), SendError.UNKNOWN),
        (HTML_502, SendError.UNKNOWN),
        (HANG, SendError.UNKNOWN),
        (DROP, SendError.UNKNOWN),
    ],
)
def test_it_classifies_what_happens_to_send_text(api, answer, kind):
    api.fail_next(answer, when=is_send)
    transport, _ = waha(api, read_timeout=0.3)

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.kind == kind


def test_it_retries_a_cold_contact_no_sooner_than_tomorrow(api):
    api.fail_next(Reply(500, {"message": "server returned error 463"}), when=is_send)
    transport, _ = waha(api)

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.retry_after >= 24 * 3600


def test_it_only_retries_a_timeout_before_anything_was_sent(api):
    api.fail_next(HANG, when=lambda r: r.path == "/api/contacts/check-exists")
    transport, _ = waha(api, read_timeout=0.3)

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.kind == SendError.RETRY
    assert not any(is_send(r) for r in api.requests)


def test_it_sends_even_if_the_engine_cannot_show_typing(api):
    api.fail_next(Reply(404, {"message": "Cannot POST"}), when=lambda r: "Typing" in r.path)
    transport, pauses = waha(api)

    assert transport.send(outgoing())
    assert pauses == []
    assert len(api.sent) == 1


def test_it_reports_a_wrong_api_key_as_disconnected(api):
    transport, _ = waha(api, api_key="wrong")

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED


def test_it_retries_when_the_connection_is_refused():
    transport = WahaTransport({"base_url": refused_url(), "api_key": API_KEY})

    with pytest.raises(SendError) as raised:
        transport.send(outgoing())

    assert raised.value.kind == SendError.RETRY


def test_it_reports_a_working_session_as_connected(api):
    status = WahaTransport(api.config()).check_connection()

    assert status.connected is True
    assert api.requests[0].path == f"/api/sessions/{SESSION}"


@pytest.mark.parametrize(("status", "words"), [("SCAN_QR_CODE", "QR"), ("FAILED", "falló")])
def test_it_reports_a_session_that_is_not_working(api, status, words):
    api.status = status

    connection = WahaTransport(api.config()).check_connection()

    assert connection.connected is False
    assert words in connection.detail


def test_it_reports_an_unknown_session_as_not_connected(api):
    status = WahaTransport(api.config(session="otra")).check_connection()

    assert status.connected is False
    assert "otra" in status.detail


@pytest.mark.django_db
def test_it_reads_waha_settings_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "waha")
    monkeypatch.setenv("WAHA_BASE_URL", api.url)
    monkeypatch.setenv("WAHA_API_KEY", API_KEY)
    monkeypatch.delenv("WAHA_SESSION", raising=False)
    monkeypatch.setenv("WHATSAPP_TYPING", "no")

    transport = transport_for(Sender.get_default())
    transport.send(outgoing())

    assert api.requests_to("POST", "/api/sendText")[-1].json()["session"] == "default"
    assert not any("Typing" in r.path for r in api.requests)


def test_it_keeps_sending_when_typing_is_unsupported_after_a_send(api):
    transport, _ = waha(api)
    transport.send(outgoing())
    api.fail_next(Reply(404, {"message": "Cannot POST"}), when=lambda r: "Typing" in r.path)

    transport.send(outgoing(to="+573004445566"))

    assert [s["chatId"] for s in api.sent] == ["573001112233@c.us", "573004445566@c.us"]
