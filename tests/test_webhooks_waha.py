"""WAHA webhooks: the HMAC signature, acks, opt-outs and session changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from goteo.models import Contact, MessageStatus, Sender
from tests.fakes import waha
from tests.fakes.records import put, waha_sender

SHORT_ID = "3EB08A6895830F110A5E4D"


pytestmark = pytest.mark.usefixtures("plain_environment")


@pytest.fixture
def campaign(make_campaign, db):
    return make_campaign(2, sender=waha_sender())


def post(client, body, key=waha.HMAC_KEY, headers=None):
    raw, signed_headers = waha.signed(body, key)
    return client.post(
        "/webhooks/waha/",
        data=raw,
        content_type="application/json",
        headers=signed_headers if headers is None else headers,
    )


def inbound(phone: str, text: str) -> dict:
    digits = phone.lstrip("+")
    return waha.webhook(
        "message",
        {
            "id": f"false_{digits}@c.us_AAA",
            "timestamp": 1767366000,
            "from": f"{digits}@c.us",
            "fromMe": False,
            "body": text,
            "hasMedia": False,
        },
    )


def ack(message_id: str, phone: str, ack: int, name: str) -> dict:
    return waha.webhook(
        "message.ack",
        {"id": message_id, "from": f"{phone.lstrip('+')}@c.us", "fromMe": True, "ack": ack, "ackName": name},
    )


@pytest.mark.parametrize(
    ("key", "headers"),
    [("another-key", None), (waha.HMAC_KEY, {}), (waha.HMAC_KEY, {"X-Webhook-Hmac": "00"})],
)
def test_it_refuses_a_missing_or_wrong_hmac_and_changes_nothing(client, campaign, key, headers):
    phone = campaign.messages.first().phone

    response = post(client, inbound(phone, "BAJA"), key=key, headers=headers)

    assert response.status_code == 403
    assert Contact.objects.get(phone=phone).opted_out is False


def test_it_matches_a_serialized_ack_id_to_the_short_id_it_stored(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.UNKNOWN, provider_message_id=SHORT_ID)
    serialized = f"true_{message.phone.lstrip('+')}@c.us_{SHORT_ID}"

    assert post(client, ack(serialized, message.phone, 3, "READ")).status_code == 200

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "read"


def test_it_records_an_error_ack_as_a_failed_delivery(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.SENT, provider_message_id=SHORT_ID)

    post(client, ack(SHORT_ID, message.phone, -1, "ERROR"))

    message.refresh_from_db()
    assert message.delivery_status == "failed"


def test_it_opts_out_on_a_stop_word(client, campaign):
    phone = campaign.messages.first().phone

    post(client, inbound(phone, "NO MÁS"))

    assert Contact.objects.get(phone=phone).opted_out is True
    assert campaign.messages.get(phone=phone).status == MessageStatus.SKIPPED


def test_a_session_that_fails_right_after_sending_is_only_disconnected(client, campaign):
    put(campaign.messages.first(), MessageStatus.SENT, sent_at=timezone.now())

    post(client, waha.webhook("session.status", {"status": "FAILED", "statuses": []}))

    campaign.refresh_from_db()
    sender = Sender.objects.get(pk=campaign.sender_id)
    assert not sender.is_braked(timezone.now())
    assert sender.health["connected"] is False
    assert campaign.status == "active"


def test_it_remembers_the_session_state_without_braking_when_idle(client, campaign):
    post(client, waha.webhook("session.status", {"status": "STOPPED"}))
    stopped = Sender.objects.get(pk=campaign.sender_id)
    post(client, waha.webhook("session.status", {"status": "WORKING"}))
    working = Sender.objects.get(pk=campaign.sender_id)

    assert not stopped.is_braked(timezone.now())
    assert stopped.health["connected"] is False
    assert working.health["connected"] is True
