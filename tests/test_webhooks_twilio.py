"""Twilio's status callbacks and inbound messages, verified with X-Twilio-Signature."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from goteo.models import Contact, MessageStatus, Reply
from goteo.webhooks.signatures import twilio_signature, twilio_signature_ok
from tests.fakes.records import put, twilio_sender
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM

SID = "SM304417148af644198a0efaceebc965a5"
DOCS_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Caller": ["+14158675309"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
}


pytestmark = pytest.mark.usefixtures("plain_environment")


@pytest.fixture
def campaign(make_campaign, db):
    return make_campaign(2, sender=twilio_sender())


def post(client, path, params, *, token=AUTH_TOKEN, url=None, signature=None, host="testserver"):
    """POST form fields as Twilio does, signed for ``url`` (the address Twilio called)."""
    full = url or f"http://{host}{path}"
    header = twilio_signature(full, {k: [v] for k, v in params.items()}, token)
    headers = {} if signature == "" else {"X-Twilio-Signature": signature or header}
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
        HTTP_HOST=host,
    )


def status_params(state: str, to: str, error: str = "") -> dict[str, str]:
    params = {
        "MessageSid": SID,
        "SmsSid": SID,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": state,
        "SmsStatus": state,
        "To": f"whatsapp:{to}",
        "From": FROM,
        "ChannelPrefix": "whatsapp",
        "ApiVersion": "2010-04-01",
    }
    if error:
        params["ErrorCode"] = error
    return params


def test_it_matches_twilios_published_signature_examples():
    repeated = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234", "1234"]}

    assert twilio_signature(DOCS_URL, DOCS_PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature(DOCS_URL, repeated, "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert not twilio_signature_ok(DOCS_URL + "&x=1", DOCS_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert not twilio_signature_ok(DOCS_URL, DOCS_PARAMS, "", "12345")


def test_it_resolves_an_unknown_message_from_its_status_callback(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.UNKNOWN)
    path = f"/webhooks/twilio/status/{message.uuid}/"

    response = post(client, path, status_params("delivered", message.phone))

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "delivered"
    assert message.provider_message_id == SID


@pytest.mark.parametrize(
    "tamper",
    [
        {"signature": ""},
        {"signature": "bm90LWEtc2lnbmF0dXJl"},
        {"token": "another-token"},
        {"url": "http://elsewhere.example/webhooks/"},
    ],
)
def test_it_refuses_a_callback_without_a_valid_signature(client, campaign, tamper):
    message = put(campaign.messages.first(), MessageStatus.UNKNOWN)
    path = f"/webhooks/twilio/status/{message.uuid}/"

    response = post(client, path, status_params("delivered", message.phone), **tamper)

    assert response.status_code == 403
    message.refresh_from_db()
    assert (message.status, message.delivery_status) == (MessageStatus.UNKNOWN, "")


def test_it_refuses_a_callback_from_another_account(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)
    params = status_params("read", message.phone) | {"AccountSid": "AC" + "0" * 32}

    response = post(client, f"/webhooks/twilio/status/{message.uuid}/", params)

    assert response.status_code == 403


def test_it_checks_the_signature_against_goteos_public_address(client, campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", "https://promos.example.com")
    message = put(campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)
    path = f"/webhooks/twilio/status/{message.uuid}/"

    signed_for_public = post(
        client, path, status_params("read", message.phone), url=f"https://promos.example.com{path}"
    )
    signed_for_internal = post(client, path, status_params("read", message.phone))

    assert signed_for_public.status_code == 200
    assert signed_for_internal.status_code == 403


def test_it_records_an_undelivered_message_as_a_failed_delivery(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)

    post(
        client,
        f"/webhooks/twilio/status/{message.uuid}/",
        status_params("undelivered", message.phone, "63016"),
    )

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "failed"
    assert "63016" in message.last_error


def test_it_ignores_replays_and_older_statuses(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)
    path = f"/webhooks/twilio/status/{message.uuid}/"

    for state in ("read", "read", "delivered", "sent"):
        assert post(client, path, status_params(state, message.phone)).status_code == 200

    message.refresh_from_db()
    assert message.delivery_status == "read"


def inbound(phone: str, body: str) -> dict[str, str]:
    return {
        "MessageSid": "SMinbound",
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{phone}",
        "To": FROM,
        "Body": body,
        "ProfileName": "Persona",
        "WaId": phone.lstrip("+"),
    }


def test_it_opts_out_on_a_stop_word_and_answers_empty_twiml(client, campaign):
    phone = campaign.messages.first().phone

    response = post(client, "/webhooks/twilio/inbound/", inbound(phone, "Baja"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response.content.decode().endswith("<Response></Response>")
    assert Contact.objects.get(phone=phone).opted_out is True
    assert campaign.messages.get(phone=phone).status == MessageStatus.SKIPPED


def test_it_queues_the_opt_out_confirmation_instead_of_answering_it_in_twiml(client, campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_OPT_OUT_REPLY", "Listo <3, no recibirá más promociones.")
    phone = campaign.messages.first().phone

    first = post(client, "/webhooks/twilio/inbound/", inbound(phone, "STOP"))
    again = post(client, "/webhooks/twilio/inbound/", inbound(phone, "STOP"))  # Twilio retries

    assert first.content.decode().endswith("<Response></Response>")
    assert again.status_code == 200
    [reply] = Reply.objects.all()
    assert (reply.phone, reply.status, reply.text) == (
        phone,
        "pending",
        "Listo <3, no recibirá más promociones.",
    )


def test_it_refuses_an_unsigned_inbound_message(client, campaign):
    phone = campaign.messages.first().phone

    response = post(client, "/webhooks/twilio/inbound/", inbound(phone, "BAJA"), signature="")

    assert response.status_code == 403
    assert Contact.objects.get(phone=phone).opted_out is False
