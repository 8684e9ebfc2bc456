"""The Twilio transport against a fake Twilio REST API on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from functools import partial

import pytest

from goteo.models import Sender
from goteo.transports import ConfigurationError, SendError, transport_for
from goteo.transports.twilio import TwilioTransport
from tests.fakes.server import DROP, HANG, HTML_502, Reply, refused_url
from tests.fakes.transport import MESSAGE_ID, running
from tests.fakes.transport import outgoing as fake_outgoing
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio, twilio_error

VARIABLES = {"name": "María", "full_name": "María Pérez", "code": "LENTES30"}


outgoing = partial(fake_outgoing, text="¡Hola María! Use LENTES30", variables=VARIABLES)
api = running(FakeTwilio)
pytestmark = pytest.mark.usefixtures("plain_environment")


def test_it_sends_free_text_as_a_form_with_basic_auth(api):
    sid = TwilioTransport(api.config()).send(outgoing())

    [request] = api.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {credentials}"
    assert request.form() == {
        "To": "whatsapp:+573001112233",
        "From": FROM,
        "Body": "¡Hola María! Use LENTES30",
    }
    assert sid == api.created[0]["sid"]
    assert sid.startswith("SM")


def test_it_sends_an_approved_template_by_content_sid_and_numbered_variables(api):
    template = {"content_sid": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "params": ["name", "code"]}

    TwilioTransport(api.config()).send(outgoing(template=template))

    form = api.requests[0].form()
    assert form["ContentSid"] == "HXb5b62575e6e4ff6129ad7c8efe1f983e"
    assert json.loads(form["ContentVariables"]) == {"1": "María", "2": "LENTES30"}
    assert "Body" not in form


def test_it_asks_for_a_status_callback_with_the_message_uuid(api, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", "https://promos.example.com/")

    TwilioTransport(api.config()).send(outgoing())

    assert (
        api.requests[0].form()["StatusCallback"]
        == f"https://promos.example.com/webhooks/twilio/status/{MESSAGE_ID}/"
    )


def test_it_sends_without_a_status_callback_when_goteo_has_no_public_address(api):
    TwilioTransport(api.config()).send(outgoing())

    assert "StatusCallback" not in api.requests[0].form()


def test_it_sends_through_a_messaging_service(api):
    TwilioTransport(api.config(**{"from": "MG0123456789abcdef"})).send(outgoing())

    form = api.requests[0].form()
    assert form["MessagingServiceSid"] == "MG0123456789abcdef"
    assert "From" not in form


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (twilio_error(21211), SendError.PERMANENT),
        (twilio_error(63003), SendError.PERMANENT),
        (twilio_error(63016), SendError.PERMANENT),
        (twilio_error(63018, status=429), SendError.BRAKE),
        (twilio_error(20429, status=429), SendError.RETRY),
        (Reply(429, "Too Many Requests", "text/plain"), SendError.RETRY),
        (twilio_error(63007), SendError.DISCONNECTED),
        (twilio_error(63028), SendError.BRAKE),
        (twilio_error(20500, status=500), SendError.UNKNOWN),
        (HTML_502, SendError.UNKNOWN),
    ],
)
def test_it_classifies_each_twilio_error(api, answer, kind):
    api.by_to["whatsapp:+573001112233"] = answer

    with pytest.raises(SendError) as raised:
        TwilioTransport(api.config()).send(outgoing())

    assert raised.value.kind == kind


def test_it_records_an_opt_out_for_an_unsubscribed_recipient(api):
    api.by_to["whatsapp:+573001112233"] = twilio_error(21610, "Attempt to send to unsubscribed")

    with pytest.raises(SendError) as raised:
        TwilioTransport(api.config()).send(outgoing())

    assert raised.value.kind == SendError.PERMANENT
    assert raised.value.opted_out is True


def test_it_reports_wrong_credentials_as_disconnected(api):
    with pytest.raises(SendError) as raised:
        TwilioTransport(api.config(auth_token="wrong")).send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED
    assert raised.value.code == "20003"
    assert "wrong" not in str(raised.value)


@pytest.mark.parametrize("fault", [HANG, DROP])
def test_it_marks_unknown_a_request_that_got_no_answer(api, fault):
    api.fail_next(fault)

    with pytest.raises(SendError) as raised:
        TwilioTransport(api.config(read_timeout=0.3)).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN


def test_it_retries_when_the_connection_is_refused():
    config = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": "+1514"}

    with pytest.raises(SendError) as raised:
        TwilioTransport(config | {"base_url": refused_url()}).send(outgoing())

    assert raised.value.kind == SendError.RETRY


def test_it_reports_an_active_account_as_connected(api):
    status = TwilioTransport(api.config()).check_connection()

    assert status.connected is True
    assert api.requests[0].path == f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"


def test_it_reports_a_suspended_account_as_not_connected(api):
    api.account_status = "suspended"

    status = TwilioTransport(api.config()).check_connection()

    assert status.connected is False
    assert "suspended" in status.detail


def test_it_reports_rejected_credentials_as_not_connected(api):
    status = TwilioTransport(api.config(auth_token="nope")).check_connection()

    assert status.connected is False
    assert "20003" in status.detail


@pytest.mark.django_db
def test_it_reads_twilio_settings_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "twilio")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "whatsapp:+15149002890")
    monkeypatch.setenv("TWILIO_BASE_URL", api.url)

    transport_for(Sender.get_default()).send(outgoing())

    assert api.requests[0].form()["From"] == "whatsapp:+15149002890"


@pytest.mark.django_db
def test_it_names_missing_twilio_variables(monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "twilio")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigurationError) as raised:
        transport_for(Sender.get_default())

    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM"):
        assert name in str(raised.value)
