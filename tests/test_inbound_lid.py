"""A "BAJA" from a person WhatsApp names by a hidden id ("…@lid"), end to end.

Each way of tying it to the contact runs against real webhooks and, for WAHA, a fake WAHA
server on 127.0.0.1: the payload's alternate field, WAHA's lids lookup, a hidden id goteo
remembered; and a message nothing resolves, which a person matches in the dashboard.
Payload shapes follow tests/test_inbound_payloads.py (each names its source).
"""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from goteo import replies
from goteo.models import Contact, InboundMessage, MessageStatus, Reply, WhatsAppLid
from goteo.transports import OutgoingMessage, transport_for
from tests.dashboard import page_text, sign_in
from tests.fakes import evolution as evo
from tests.fakes import waha
from tests.fakes.records import evolution_sender, waha_sender
from tests.fakes.transport import running

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_environment")]

LID = "176369157804064@lid"


api = running(waha.FakeWaha)


def evolution_upsert(key: dict, text: str, key_id: str) -> dict:
    # EvolutionAPI/evolution-api issue #2466 and PR #1955 (Baileys 7's key with remoteJidAlt).
    return {
        "event": "messages.upsert",
        "instance": evo.INSTANCE,
        "data": {
            "key": {"fromMe": False, "id": key_id} | key,
            "pushName": "Persona",
            "message": {"conversation": text},
            "messageType": "conversation",
            "messageTimestamp": int(timezone.now().timestamp()),
        },
    }


def waha_message(sender_id: str, text: str, message_id: str) -> dict:
    # devlikeapro/waha issue #1418: a NOWEB message whose "from" is a hidden id.
    return waha.webhook(
        "message",
        {
            "id": message_id,
            "timestamp": int(timezone.now().timestamp()),
            "from": sender_id,
            "fromMe": False,
            "source": "app",
            "body": text,
            "hasMedia": False,
            "media": None,
        },
    )


def post_evolution(client, body, path_tail="messages-upsert"):
    return client.post(
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}/{path_tail}",
        data=json.dumps(body),
        content_type="application/json",
    )


def post_waha(client, body):
    raw, headers = waha.signed(body)
    return client.post("/webhooks/waha/", data=raw, content_type="application/json", headers=headers)


def opted_out(phone: str) -> bool:
    return Contact.objects.get(phone=phone).opted_out


def test_a_baja_from_a_hidden_id_is_resolved_by_evolutions_alternate_field(client, make_campaign):
    campaign = make_campaign(2, sender=evolution_sender())
    phone = campaign.messages.order_by("id").first().phone
    key = {"remoteJid": "13718@lid", "remoteJidAlt": f"{phone.lstrip('+')}@s.whatsapp.net"}

    response = post_evolution(client, evolution_upsert(key, "BAJA", "3EB0000000000000A1"))

    assert response.status_code == 200
    assert opted_out(phone)
    assert campaign.messages.get(phone=phone).status == MessageStatus.SKIPPED
    stored = InboundMessage.objects.get()
    assert (stored.phone, stored.matched_by, stored.sender_ref) == (phone, "campo_alterno", "13718@lid")
    assert WhatsAppLid.objects.get(lid="13718@lid").phone == phone  # learned for next time


def test_a_baja_from_a_hidden_id_is_resolved_through_wahas_lids_lookup(client, make_campaign, api):
    campaign = make_campaign(2, sender=waha_sender(base_url=api.url))
    phone = campaign.messages.order_by("id").first().phone
    api.lids[LID] = f"{phone.lstrip('+')}@c.us"

    response = post_waha(client, waha_message(LID, "BAJA", f"false_{LID}_3A8E1EBFE4943CA06D82"))

    assert response.status_code == 200
    assert opted_out(phone)
    assert [r.path for r in api.requests] == [f"/api/{waha.SESSION}/lids/176369157804064"]
    assert InboundMessage.objects.get().matched_by == "consulta_waha"


def test_a_baja_from_a_hidden_id_is_resolved_by_the_id_learned_after_a_send(client, make_campaign, api):
    campaign = make_campaign(2, sender=waha_sender(base_url=api.url))
    phone = campaign.messages.order_by("id").first().phone
    api.lids[LID] = f"{phone.lstrip('+')}@c.us"
    transport = transport_for(campaign.sender)
    transport.typing = False
    transport.send(OutgoingMessage(phone, "¡Hola!", "m-1"))
    transport.close()
    assert WhatsAppLid.objects.get(lid=LID).phone == phone
    api.lids.clear()  # WAHA forgot it (a restarted session): goteo's memory answers

    post_waha(client, waha_message(LID, "No más", f"false_{LID}_3A8E1EBFE4943CA06D83"))

    assert opted_out(phone)
    assert InboundMessage.objects.get().matched_by == "id_recordado"


def test_an_unresolved_baja_is_kept_shown_and_applied_when_a_person_matches_it(
    client, make_campaign, monkeypatch
):
    monkeypatch.setenv("GOTEO_OPT_OUT_REPLY", "Listo, no recibirá más promociones.")
    campaign = make_campaign(2, sender=evolution_sender())
    phone = campaign.messages.order_by("id").first().phone
    contact = Contact.objects.get(phone=phone)

    post_evolution(client, evolution_upsert({"remoteJid": "13718@lid"}, "BAJA", "3EB0000000000000B1"))

    assert not opted_out(phone)  # nothing tells who wrote: nobody is opted out by guess
    stored = InboundMessage.objects.get()
    assert (stored.phone, stored.is_opt_out, stored.handled_at) == ("", True, None)

    sign_in(client)
    campaigns_page = page_text(client.get("/dashboard/promociones/campanas/"))
    listing = page_text(client.get("/dashboard/promociones/mensajes/"))
    assert "1 pedido de baja de alguien sin identificar" in campaigns_page
    assert "Pide la baja" in listing and "13718" in listing and "@lid" not in listing

    wrong = client.post(
        f"/dashboard/promociones/mensajes/{stored.pk}/", {"contact": "+57 300 999 9999"}, follow=True
    )
    assert "Ningún contacto tiene el teléfono +573009999999." in page_text(wrong)
    assert not opted_out(phone)

    done = client.post(f"/dashboard/promociones/mensajes/{stored.pk}/", {"contact": phone}, follow=True)

    assert f"{contact.full_name} quedó dado de baja" in page_text(done)
    assert "sin identificar:" not in page_text(done)  # the alert is gone
    assert opted_out(phone)
    assert campaign.messages.get(phone=phone).status == MessageStatus.SKIPPED
    stored.refresh_from_db()
    assert (stored.contact_id, stored.matched_by, stored.handled_by) == (contact.pk, "persona", "panel:ana")
    assert Reply.objects.get().phone == phone  # the confirmation waits for the worker
    # The person's next message with the same hidden id is recognised.
    post_evolution(client, evolution_upsert({"remoteJid": "13718@lid"}, "gracias", "3EB0000000000000B2"))
    assert InboundMessage.objects.get(provider_message_id="3EB0000000000000B2").phone == phone


def test_a_retried_webhook_stores_the_message_once_and_queues_one_reply(client, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_OPT_OUT_REPLY", "Listo.")
    campaign = make_campaign(1, sender=evolution_sender())
    phone = campaign.messages.get().phone
    body = evolution_upsert(
        {"remoteJid": f"{phone.lstrip('+')}@s.whatsapp.net"}, "BAJA", "3EB0000000000000C1"
    )

    post_evolution(client, body)
    post_evolution(client, body)

    assert InboundMessage.objects.count() == 1
    assert Reply.objects.count() == 1


def test_a_meta_user_id_never_opts_out_a_phone_made_of_its_digits(client, make_campaign):
    from tests.fakes import meta_webhooks as meta
    from tests.fakes.records import cloud_sender

    campaign = make_campaign(1, sender=cloud_sender())
    lookalike = Contact.objects.create(full_name="Otra persona", phone="+13491208655", consent=True)
    body = meta.envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": meta.metadata(),
            "contacts": [{"profile": {"name": "Persona"}, "user_id": "US.13491208655"}],
            "messages": [
                {
                    "from_user_id": "US.13491208655",
                    "id": "wamid.USERIDONLY",
                    "timestamp": str(int(timezone.now().timestamp())),
                    "type": "text",
                    "text": {"body": "BAJA"},
                }
            ],
        },
    )

    meta.post(client, body)

    lookalike.refresh_from_db()
    assert lookalike.opted_out is False
    assert not Contact.objects.filter(opted_out=True).exists()
    assert InboundMessage.unidentified().get().sender_ref == "US.13491208655"
    assert campaign.messages.get().status == MessageStatus.PENDING


def test_a_queued_confirmation_is_sent_by_the_run_within_the_numbers_rules(
    client, make_campaign, monkeypatch
):
    from goteo.models import DailyCounter, Sender

    monkeypatch.setenv("GOTEO_OPT_OUT_REPLY", "Listo.")
    with waha.FakeWaha() as api:
        sender = waha_sender(base_url=api.url)
        sender.config["typing"] = False
        sender.save()
        campaign = make_campaign(1, sender=sender)
        phone = campaign.messages.get().phone
        post_waha(client, waha_message(f"{phone.lstrip('+')}@c.us", "BAJA", "false_x_AAA1"))
        now = timezone.now()
        Sender.objects.filter(pk=sender.pk).update(next_send_at=now + timezone.timedelta(seconds=30))

        held = replies.send_due(now)  # the number's pacing holds it
        sent = replies.send_due(now + timezone.timedelta(seconds=31))

    assert (held, sent) == (0, 1)
    assert [m["chatId"] for m in api.sent] == [f"{phone.lstrip('+')}@c.us"]
    assert DailyCounter.used_on(sender.counter_scope, sender.local_day(now)) == 1  # the cap counts it
    assert Reply.objects.get().status == "sent"
