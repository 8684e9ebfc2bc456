"""Replies tied to the campaign that last wrote to the person, through each provider's webhook.

The payloads are the providers' own shapes from tests/test_inbound_payloads.py and the fakes
(each names its source there). A reply answers the latest promotion sent to that phone
before it, within GOTEO_REPLY_WINDOW_DAYS; counters move once per promotion, opt-outs apart.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from goteo import attribution
from goteo.models import Campaign, Contact, InboundMessage, Message, MessageStatus, Sender
from tests.dashboard import sign_in
from tests.fakes import evolution as evo
from tests.fakes import meta_webhooks as meta
from tests.fakes import waha
from tests.fakes.records import cloud_sender, evolution_sender, twilio_sender, waha_sender
from tests.test_inbound_payloads import EVOLUTION_PHONE, WAHA_PHONE
from tests.test_webhooks_twilio import inbound as twilio_inbound
from tests.test_webhooks_twilio import post as twilio_post

pytestmark = pytest.mark.usefixtures("plain_environment")

PHONE = "+573001112233"  # the person in the payload fixtures
T0 = 1767366000  # 2 January 2026, 10:00 in Bogotá


def moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


# --- each provider: its sender, and a reply from PHONE posted to goteo's webhook ------------
def post_cloud(client: Client) -> Any:
    return meta.post(client, meta.inbound_text(PHONE, "¿Cuánto valen las monturas?", timestamp=T0))


def post_twilio(client: Client) -> Any:
    return twilio_post(client, "/webhooks/twilio/inbound/", twilio_inbound(PHONE, "Quiero una cita"))


def post_evolution(client: Client, body: dict[str, Any] = EVOLUTION_PHONE) -> Any:
    return client.post(
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}/", data=json.dumps(body), content_type="application/json"
    )


def post_waha(client: Client) -> Any:
    raw, headers = waha.signed(WAHA_PHONE)
    return client.post("/webhooks/waha/", data=raw, content_type="application/json", headers=headers)


# provider: (its sender, the post, when the payload says the person wrote; None: on arrival)
PROVIDERS: dict[str, tuple[Callable[[], Sender], Callable[[Client], Any], datetime | None]] = {
    "cloud": (cloud_sender, post_cloud, moment(T0)),
    "twilio": (twilio_sender, post_twilio, None),  # Twilio's inbound webhook carries no time
    "evolution": (evolution_sender, post_evolution, moment(EVOLUTION_PHONE["data"]["messageTimestamp"])),
    "waha": (waha_sender, post_waha, moment(WAHA_PHONE["payload"]["timestamp"])),
}


def promotion_sent(make_campaign, sender: Sender, sent_at: datetime, phone: str = PHONE) -> Message:
    """A campaign on ``sender`` whose promotion went to ``phone`` at ``sent_at``."""
    campaign = make_campaign(0, sender=sender, launch=False)
    contact, _ = Contact.objects.get_or_create(
        phone=phone, defaults={"full_name": "Rodrigo Pérez", "consent": True}
    )
    return Message.objects.create(
        campaign=campaign,
        contact=contact,
        contact_name=contact.full_name,
        phone=phone,
        rendered_text=f"¡Hola Rodrigo! {campaign.name}",
        status=MessageStatus.SENT,
        sent_at=sent_at,
    )


def counts(message: Message) -> tuple[int, int]:
    campaign = Campaign.objects.get(pk=message.campaign_id)
    return campaign.replied_count, campaign.opted_out_count


@pytest.mark.django_db
@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_reply_by_each_providers_webhook_answers_the_campaign_that_last_wrote(
    client, make_campaign, provider
):
    make_sender, post, written = PROVIDERS[provider]
    sender = make_sender()
    when = written or timezone.now()
    older = promotion_sent(make_campaign, sender, when - timedelta(days=3))
    latest = promotion_sent(make_campaign, sender, when - timedelta(days=1))

    assert post(client).status_code == 200

    reply = InboundMessage.objects.get()
    assert (reply.campaign_id, reply.in_reply_to_id) == (latest.campaign_id, latest.pk)
    assert reply.contact_id == latest.contact_id
    assert reply.handled_at is None  # it waits in the inbox
    latest.refresh_from_db()
    assert latest.replied_at == reply.received_at
    assert counts(latest) == (1, 0)
    assert counts(older) == (0, 0)
    assert Message.objects.get(pk=older.pk).replied_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["cloud", "evolution"])
def test_a_reply_after_the_window_answers_no_campaign(client, make_campaign, provider):
    make_sender, post, written = PROVIDERS[provider]
    assert written is not None
    promotion = promotion_sent(make_campaign, make_sender(), written - timedelta(days=7, minutes=1))

    post(client)

    reply = InboundMessage.objects.get()
    assert (reply.phone, reply.campaign_id, reply.in_reply_to_id) == (PHONE, None, None)
    assert counts(promotion) == (0, 0)


@pytest.mark.django_db
def test_the_window_is_configurable(client, make_campaign, settings):
    settings.GOTEO_REPLY_WINDOW_DAYS = 10
    promotion = promotion_sent(make_campaign, cloud_sender(), moment(T0) - timedelta(days=9))

    post_cloud(client)

    assert InboundMessage.objects.get().campaign_id == promotion.campaign_id
    settings.GOTEO_REPLY_WINDOW_DAYS = 0  # off: nothing is attributed
    assert attribution.answered_message(PHONE, moment(T0)) is None


@pytest.mark.django_db
def test_a_promotion_sent_after_the_message_is_not_what_it_answers(client, make_campaign):
    sender = cloud_sender()
    before = promotion_sent(make_campaign, sender, moment(T0) - timedelta(days=2))
    promotion_sent(make_campaign, sender, moment(T0) + timedelta(hours=1), phone=PHONE)

    post_cloud(client)

    assert InboundMessage.objects.get().in_reply_to_id == before.pk


@pytest.mark.django_db
def test_a_hidden_id_reply_is_attributed_once_a_person_matches_it(client, make_campaign):
    sender = evolution_sender()
    promotion = promotion_sent(make_campaign, sender, timezone.now() - timedelta(hours=5))
    body = {
        "event": "messages.upsert",
        "instance": evo.INSTANCE,
        "data": {
            "key": {"remoteJid": "13718@lid", "fromMe": False, "id": "3EB0A1B2C3D4E5F60720"},
            "pushName": "Rodrigo",
            "message": {"conversation": "¿Hasta cuándo es la promoción?"},
            "messageType": "conversation",
            "messageTimestamp": int(timezone.now().timestamp()),
        },
    }
    post_evolution(client, body)
    stored = InboundMessage.objects.get()
    assert (stored.phone, stored.campaign_id) == ("", None)  # nobody knows who wrote yet
    assert counts(promotion) == (0, 0)

    sign_in(client)
    client.post(f"/dashboard/promociones/mensajes/{stored.pk}/", {"contact": PHONE})

    stored.refresh_from_db()
    assert (stored.phone, stored.campaign_id, stored.in_reply_to_id) == (
        PHONE,
        promotion.campaign_id,
        promotion.pk,
    )
    assert stored.handled_at is None  # matching the sender is not answering them: it waits in the inbox
    assert counts(promotion) == (1, 0)


@pytest.mark.django_db
def test_an_opt_out_is_honoured_and_counted_as_one_never_as_a_reply(client, make_campaign):
    sender = cloud_sender()
    promotion = promotion_sent(make_campaign, sender, moment(T0) - timedelta(hours=2))

    meta.post(client, meta.inbound_text(PHONE, "BAJA", timestamp=T0))
    again = meta.inbound_text(PHONE, "baja por favor", timestamp=T0 + 60)
    again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.OTRA"
    meta.post(client, again)

    assert Contact.objects.get(phone=PHONE).opted_out is True
    assert InboundMessage.objects.filter(is_opt_out=True, in_reply_to=promotion).count() == 2
    assert counts(promotion) == (0, 1)  # one opt-out per promotion, and no reply
    promotion.refresh_from_db()
    assert promotion.replied_at is None


@pytest.mark.django_db
def test_a_second_reply_to_the_same_promotion_counts_once(client, make_campaign):
    promotion = promotion_sent(make_campaign, evolution_sender(), timezone.now() - timedelta(hours=1))
    first = evo.inbound(PHONE, "Hola")
    first["data"]["key"]["id"] = "3EB0FIRST"
    first["data"]["messageTimestamp"] = int(timezone.now().timestamp()) - 60
    second = evo.inbound(PHONE, "¿Tienen monturas para niños?")
    second["data"]["key"]["id"] = "3EB0SECOND"
    second["data"]["messageTimestamp"] = int(timezone.now().timestamp())

    post_evolution(client, first)
    post_evolution(client, second)
    post_evolution(client, second)  # the provider retries: stored once

    assert InboundMessage.objects.filter(in_reply_to=promotion).count() == 2
    assert counts(promotion) == (1, 0)
    promotion.refresh_from_db()
    assert promotion.replied_at == moment(first["data"]["messageTimestamp"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.parametrize(
    ("texts", "expected"),
    [(("Hola", "¿Cuánto cuesta?"), (1, 0)), (("BAJA", "No más"), (0, 1))],
    ids=["replies", "opt-outs"],
)
def test_two_replies_delivered_at_once_count_the_promotion_once(make_campaign, monkeypatch, texts, expected):
    """Both webhooks find the promotion before either counts; on PostgreSQL they truly overlap."""
    promotion = promotion_sent(make_campaign, evolution_sender(), timezone.now() - timedelta(hours=1))
    overlap = 1.0 if connection.vendor == "postgresql" else 0.2  # SQLite: one writer at a time
    both_found = threading.Barrier(2, timeout=overlap)
    original = attribution.answered_message

    def find_then_wait(phone: str, at: datetime) -> Message | None:
        found = original(phone, at)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_found.wait()
        return found

    monkeypatch.setattr(attribution, "answered_message", find_then_wait)
    results: list[object] = []

    def deliver(key_id: str, text: str) -> None:
        body = evo.inbound(PHONE, text)
        body["data"]["key"]["id"] = key_id
        body["data"]["messageTimestamp"] = int(timezone.now().timestamp())
        try:
            results.append(post_evolution(Client(), body).status_code)
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=deliver, args=("3EB0RACE1", texts[0])),
        threading.Thread(target=deliver, args=("3EB0RACE2", texts[1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert results == [200, 200]
    assert InboundMessage.objects.filter(in_reply_to=promotion).count() == 2
    assert counts(promotion) == expected
    assert (Message.objects.get(pk=promotion.pk).replied_at is not None) == bool(expected[0])


@pytest.mark.django_db
def test_a_negative_window_is_named_and_never_costs_the_message_or_its_opt_out(
    client, make_campaign, settings
):
    settings.GOTEO_REPLY_WINDOW_DAYS = -1
    with pytest.raises(ValueError, match="GOTEO_REPLY_WINDOW_DAYS no puede ser negativo: -1"):
        attribution.window()
    promotion_sent(make_campaign, cloud_sender(), moment(T0) - timedelta(hours=1))

    assert meta.post(client, meta.inbound_text(PHONE, "BAJA", timestamp=T0)).status_code == 200

    assert InboundMessage.objects.get().campaign_id is None
    assert Contact.objects.get(phone=PHONE).opted_out is True
