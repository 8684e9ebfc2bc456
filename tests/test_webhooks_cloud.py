"""Meta's webhooks: the verification handshake, signatures, receipts, opt-outs and brakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from goteo import replies
from goteo.models import Campaign, Contact, Message, MessageEvent, MessageStatus, Sender
from tests.fakes import meta_webhooks as meta
from tests.fakes.cloud import FakeCloudAPI
from tests.fakes.records import cloud_sender, put

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_environment")]

WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA"
T0 = 1767366000  # 2 January 2026, 10:00 in Bogotá


@pytest.fixture
def sender():
    return cloud_sender()


@pytest.fixture
def campaign(make_campaign, sender):
    return make_campaign(3, sender=sender)


def first(campaign: Campaign) -> Message:
    return campaign.messages.order_by("id").first()


# --- handshake and signatures --------------------------------------------------------------
def test_it_answers_the_verification_challenge_with_the_right_token(client, sender):
    response = client.get(
        "/webhooks/cloud/",
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": meta.VERIFY_TOKEN},
    )

    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize("token", ["wrong", ""])
def test_it_refuses_the_challenge_with_a_wrong_or_missing_token(client, sender, token):
    response = client.get(
        "/webhooks/cloud/",
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token},
    )

    assert response.status_code == 403
    assert b"1158201444" not in response.content


@pytest.mark.parametrize(
    ("secret", "signature"),
    [
        (meta.APP_SECRET, ""),  # missing header
        (meta.APP_SECRET, "sha256=" + "0" * 64),  # wrong digest
        ("another-secret", None),  # signed with a different key
        (meta.APP_SECRET, "md5=abc"),  # wrong scheme
    ],
)
def test_it_refuses_an_unsigned_or_missigned_post_and_changes_nothing(client, campaign, secret, signature):
    message = put(first(campaign), MessageStatus.UNKNOWN)

    response = meta.post(
        client,
        meta.statuses(meta.status(WAMID, "read", message.phone, opaque=str(message.uuid))),
        secret=secret,
        header=signature,
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
    assert message.delivery_status == ""


def test_it_refuses_posts_when_no_app_secret_is_configured(client, make_campaign):
    Sender.objects.create(
        name="sin secreto", backend="cloud", config={"phone_number_id": "1"}, secrets={"token": "t"}
    )

    response = meta.post(client, meta.statuses())

    assert response.status_code == 403


def test_it_checks_the_signature_over_the_exact_bytes(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)
    body, header = meta.signed(meta.statuses(meta.status(WAMID, "delivered", message.phone)))
    tampered = body.replace(b"delivered", b"read     ")

    response = client.post(
        "/webhooks/cloud/",
        data=tampered,
        content_type="application/json",
        headers={"X-Hub-Signature-256": header},
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.delivery_status == ""


def test_it_rejects_a_signed_body_that_is_not_json(client, sender):
    response = client.post(
        "/webhooks/cloud/",
        data=b"not json",
        content_type="application/json",
        headers={"X-Hub-Signature-256": meta.signature(b"not json")},
    )

    assert response.status_code == 400


# --- delivery receipts ---------------------------------------------------------------------
def test_it_records_sent_delivered_and_read_with_their_times(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)

    for state, ts in (("sent", T0), ("delivered", T0 + 5), ("read", T0 + 60)):
        assert (
            meta.post(
                client, meta.statuses(meta.status(WAMID, state, message.phone, timestamp=ts))
            ).status_code
            == 200
        )

    message.refresh_from_db()
    assert message.delivery_status == "read"
    assert message.delivered_at == datetime.fromtimestamp(T0 + 5, UTC)
    assert message.read_at == datetime.fromtimestamp(T0 + 60, UTC)
    assert message.status == MessageStatus.SENT


def test_it_resolves_an_unknown_message_to_sent_by_our_uuid(client, campaign):
    message = put(first(campaign), MessageStatus.UNKNOWN, last_error="timeout")

    meta.post(client, meta.statuses(meta.status(WAMID, "sent", message.phone, opaque=str(message.uuid))))

    message.refresh_from_db()
    campaign.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == WAMID
    assert message.delivery_status == "sent"
    assert message.last_error == ""
    assert (campaign.unknown_count, campaign.sent_count) == (0, 1)
    event = MessageEvent.objects.get(message=message, to_status="sent")
    assert (event.from_status, event.actor) == ("unknown", "webhook:cloud")


def test_it_resolves_an_unknown_message_by_the_provider_id(client, campaign):
    message = put(first(campaign), MessageStatus.UNKNOWN, provider_message_id=WAMID)

    meta.post(client, meta.statuses(meta.status(WAMID, "delivered", message.phone)))

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "delivered"


def test_it_is_idempotent_under_replays(client, campaign):
    message = put(first(campaign), MessageStatus.UNKNOWN)
    payload = meta.statuses(meta.status(WAMID, "delivered", message.phone, opaque=str(message.uuid)))

    for _ in range(3):
        assert meta.post(client, payload).status_code == 200

    message.refresh_from_db()
    campaign.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert campaign.sent_count == 1
    assert MessageEvent.objects.filter(message=message, to_status="sent").count() == 1


def test_it_never_moves_delivery_backwards_when_statuses_arrive_out_of_order(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)

    meta.post(client, meta.statuses(meta.status(WAMID, "read", message.phone, timestamp=T0 + 60)))
    meta.post(client, meta.statuses(meta.status(WAMID, "delivered", message.phone, timestamp=T0 + 5)))
    meta.post(client, meta.statuses(meta.status(WAMID, "sent", message.phone, timestamp=T0)))

    message.refresh_from_db()
    assert message.delivery_status == "read"
    assert message.delivered_at == datetime.fromtimestamp(T0 + 5, UTC)
    assert message.read_at == datetime.fromtimestamp(T0 + 60, UTC)


def test_it_handles_several_statuses_in_one_batch(client, campaign):
    one, two = campaign.messages.order_by("id")[:2]
    put(one, MessageStatus.SENT, provider_message_id="wamid.ONE")
    put(two, MessageStatus.UNKNOWN)

    meta.post(
        client,
        meta.statuses(
            meta.status("wamid.ONE", "delivered", one.phone),
            meta.status("wamid.TWO", "sent", two.phone, opaque=str(two.uuid)),
        ),
    )

    one.refresh_from_db()
    two.refresh_from_db()
    assert one.delivery_status == "delivered"
    assert two.status == MessageStatus.SENT


def test_it_ignores_a_receipt_for_a_message_it_does_not_know(client, campaign):
    response = meta.post(client, meta.statuses(meta.status("wamid.OTHER", "read", "+15550001111")))

    assert response.status_code == 200
    assert not Message.objects.exclude(delivery_status="").exists()


def test_it_fails_an_unknown_message_that_meta_could_not_deliver(client, campaign):
    message = put(first(campaign), MessageStatus.UNKNOWN, provider_message_id=WAMID)

    meta.post(client, meta.statuses(meta.status(WAMID, "failed", message.phone, error_code=131026)))

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.delivery_status == "failed"
    assert "131026" in message.last_error


def test_it_keeps_a_sent_message_sent_when_delivery_fails(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)

    meta.post(client, meta.statuses(meta.status(WAMID, "failed", message.phone, error_code=131026)))

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "failed"


def test_it_ignores_a_late_failure_after_delivery(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)

    meta.post(client, meta.statuses(meta.status(WAMID, "delivered", message.phone)))
    meta.post(client, meta.statuses(meta.status(WAMID, "failed", message.phone, error_code=131000)))

    message.refresh_from_db()
    assert message.delivery_status == "delivered"


def test_it_retries_a_per_user_marketing_limit_a_day_later(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID, attempts=1)

    meta.post(
        client, meta.statuses(meta.status(WAMID, "failed", message.phone, timestamp=T0, error_code=131049))
    )

    message.refresh_from_db()
    campaign.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.next_attempt_at >= datetime.fromtimestamp(T0, UTC) + timedelta(hours=24)
    assert (campaign.sent_count, campaign.pending_count) == (0, 3)


def test_it_opts_out_a_person_meta_says_stopped_marketing(client, campaign, make_campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)
    other = make_campaign(0, sender=campaign.sender)

    meta.post(client, meta.statuses(meta.status(WAMID, "failed", message.phone, error_code=131050)))

    assert Contact.objects.get(phone=message.phone).opted_out is True
    assert other.messages.get(phone=message.phone).status == MessageStatus.SKIPPED


def test_it_brakes_the_number_on_a_spam_failure(client, campaign):
    message = put(first(campaign), MessageStatus.SENT, provider_message_id=WAMID)

    meta.post(client, meta.statuses(meta.status(WAMID, "failed", message.phone, error_code=131048)))

    sender = Sender.objects.get(pk=campaign.sender_id)
    campaign.refresh_from_db()
    assert sender.is_braked(timezone.now())
    assert campaign.status == "paused"
    assert "131048" in campaign.pause_reason


# --- people writing back -------------------------------------------------------------------
@pytest.mark.parametrize("text", ["BAJA", "baja", "No más", "  STOP!!", "Cancelar por favor", "desuscribir"])
def test_it_opts_out_on_a_stop_word_in_every_campaign(client, campaign, make_campaign, text):
    phone = first(campaign).phone
    other = make_campaign(0, sender=campaign.sender)

    response = meta.post(client, meta.inbound_text(phone, text))

    assert response.status_code == 200
    contact = Contact.objects.get(phone=phone)
    assert contact.opted_out is True
    assert contact.opt_out_source
    for each in (campaign, other):
        message = each.messages.get(phone=phone)
        assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, "opted_out")
    assert Contact.objects.filter(opted_out=True).count() == 1


@pytest.mark.parametrize(
    "text", ["¿Tienen baja de precios en monturas para niños este mes?", "Hola", "nomas"]
)
def test_it_does_not_opt_out_on_an_ordinary_message(client, campaign, text):
    phone = first(campaign).phone

    meta.post(client, meta.inbound_text(phone, text))

    assert Contact.objects.get(phone=phone).opted_out is False


def test_it_uses_the_configured_stop_words(client, campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_OPT_OUT_WORDS", "NO QUIERO, SALIR")
    one, two = campaign.messages.order_by("id")[:2]

    meta.post(client, meta.inbound_text(one.phone, "no quiero"))
    meta.post(client, meta.inbound_text(two.phone, "BAJA"))

    assert Contact.objects.get(phone=one.phone).opted_out is True
    assert Contact.objects.get(phone=two.phone).opted_out is False


def test_it_opts_out_on_metas_stop_promotions_preference(client, campaign):
    phone = first(campaign).phone

    meta.post(client, meta.stop_promotions(phone))

    assert Contact.objects.get(phone=phone).opted_out is True
    assert first(campaign).status == MessageStatus.SKIPPED


def test_it_queues_the_opt_out_confirmation_and_the_worker_sends_it_once(client, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_OPT_OUT_REPLY", "Listo, no le enviaremos más promociones.")
    with FakeCloudAPI() as api:
        sender = cloud_sender(base_url=api.url)
        campaign = make_campaign(1, sender=sender)
        phone = first(campaign).phone
        body = meta.inbound_text(phone, "BAJA", timestamp=int(timezone.now().timestamp()))

        meta.post(client, body)
        meta.post(client, body)  # Meta retries a webhook it thinks was lost
        assert api.requests == []  # the web process answers; it does not send
        sent = replies.send_due(timezone.now())
        again = replies.send_due(timezone.now())

    assert (sent, again) == (1, 0)
    [reply] = api.accepted
    assert reply["to"] == phone
    assert reply["body"]["type"] == "text"
    assert reply["body"]["text"]["body"] == "Listo, no le enviaremos más promociones."


def test_it_sends_no_reply_unless_configured(client, make_campaign):
    with FakeCloudAPI() as api:
        campaign = make_campaign(1, sender=cloud_sender(base_url=api.url))

        meta.post(client, meta.inbound_text(first(campaign).phone, "BAJA"))

    assert api.requests == []


# --- the number's standing -----------------------------------------------------------------
def test_it_brakes_the_number_when_meta_flags_its_quality(client, campaign):
    response = meta.post(client, meta.quality_update("FLAGGED"))

    assert response.status_code == 200
    sender = Sender.objects.get(pk=campaign.sender_id)
    campaign.refresh_from_db()
    assert sender.is_braked(timezone.now())
    assert campaign.status == "paused"
    assert "calidad" in campaign.pause_reason


def test_it_does_not_brake_on_a_quality_upgrade(client, campaign):
    meta.post(client, meta.quality_update("UPGRADE"))

    assert not Sender.objects.get(pk=campaign.sender_id).is_braked(timezone.now())
