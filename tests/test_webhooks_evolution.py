"""Evolution API webhooks: the secret in the URL, receipts, opt-outs and dropped sessions."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from goteo.models import Contact, MessageStatus, Sender
from tests.fakes import evolution as evo
from tests.fakes.records import evolution_sender, put

KEY_ID = "3EB0C767D097B7C7C030"


pytestmark = pytest.mark.usefixtures("plain_environment")


@pytest.fixture
def campaign(make_campaign, db):
    return make_campaign(2, sender=evolution_sender())


def post(client, body, secret=evo.WEBHOOK_SECRET, suffix=""):
    return client.post(
        f"/webhooks/evolution/{secret}/{suffix}", data=json.dumps(body), content_type="application/json"
    )


def sender_of(campaign) -> Sender:
    return Sender.objects.get(pk=campaign.sender_id)


def test_it_refuses_a_wrong_secret_and_changes_nothing(client, campaign):
    phone = campaign.messages.first().phone

    response = post(client, evo.inbound(phone, "BAJA"), secret="guess")

    assert response.status_code == 403
    assert Contact.objects.get(phone=phone).opted_out is False


def test_it_refuses_everything_when_no_secret_is_configured(client, make_campaign, db):
    sender = evolution_sender()
    sender.secrets = {"api_key": evo.API_KEY}
    sender.save()
    campaign = make_campaign(1, sender=sender)

    response = post(client, evo.inbound(campaign.messages.first().phone, "BAJA"))

    assert response.status_code == 403


def test_it_records_acks_and_resolves_an_unknown_message(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.UNKNOWN, provider_message_id=KEY_ID)

    for status in ("SERVER_ACK", "DELIVERY_ACK", "READ", "DELIVERY_ACK"):
        assert post(client, evo.ack(KEY_ID, message.phone, status)).status_code == 200

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "read"
    assert message.read_at is not None


def test_it_accepts_the_url_with_the_event_name_appended(client, campaign):
    message = put(campaign.messages.first(), MessageStatus.SENT, provider_message_id=KEY_ID)

    response = post(client, evo.ack(KEY_ID, message.phone, "DELIVERY_ACK"), suffix="messages-update/")

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == "delivered"


def test_it_opts_out_on_a_stop_word(client, campaign):
    phone = campaign.messages.first().phone

    post(client, evo.inbound(phone, "Desuscribir"))

    assert Contact.objects.get(phone=phone).opted_out is True
    assert campaign.messages.get(phone=phone).status == MessageStatus.SKIPPED


def test_it_ignores_stop_words_in_groups(client, campaign):
    phone = campaign.messages.first().phone

    post(client, evo.inbound(phone, "BAJA", group=True))

    assert Contact.objects.get(phone=phone).opted_out is False


def test_it_brakes_when_whatsapp_logs_the_number_out(client, campaign):
    response = post(client, evo.connection("close", 401))

    assert response.status_code == 200
    campaign.refresh_from_db()
    assert sender_of(campaign).is_braked(timezone.now())
    assert campaign.status == "paused"


def test_a_session_that_closes_right_after_sending_without_a_ban_code_is_only_disconnected(client, campaign):
    put(campaign.messages.first(), MessageStatus.SENT, sent_at=timezone.now())

    post(client, evo.connection("close", 428))  # Baileys' connectionClosed: it reconnects

    campaign.refresh_from_db()
    sender = sender_of(campaign)
    assert not sender.is_braked(timezone.now())
    assert sender.health["connected"] is False
    assert campaign.status == "active"


def test_it_only_marks_disconnected_a_session_that_closes_while_idle(client, campaign):
    post(client, evo.connection("close", 428))

    sender = sender_of(campaign)
    assert not sender.is_braked(timezone.now())
    assert sender.health["connected"] is False


def test_it_ignores_events_of_an_instance_it_does_not_use(client, campaign):
    post(
        client,
        evo.webhook(
            "connection.update", {"instance": "otra", "state": "close", "statusReason": 401}, instance="otra"
        ),
    )

    assert not sender_of(campaign).is_braked(timezone.now())
