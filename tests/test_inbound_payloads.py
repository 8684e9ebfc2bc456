"""Inbound messages and receipts as each provider really sends them, read into events.

Each fixture is shaped after the provider's own public material, named in its comment;
numbers and ids are changed, the shape is not.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from goteo.models import MessageStatus, Sender
from goteo.webhooks import events, gateway_events
from goteo.webhooks.events import Inbound, Receipt, StopPromotions
from tests.fakes import meta_webhooks as meta
from tests.fakes.cloud import PHONE_NUMBER_ID
from tests.fakes.records import cloud_sender, put

# --- WAHA ----------------------------------------------------------------------------------
# devlikeapro/waha docs, "Webhooks" → message (WEBJS engine's example payload).
WAHA_PHONE = {
    "event": "message",
    "session": "default",
    "engine": "WEBJS",
    "payload": {
        "id": "false_573001112233@c.us_AAAAAAAAAAAAAAAAAAAAAA",
        "timestamp": 1667561485,
        "from": "573001112233@c.us",
        "fromMe": False,
        "to": "573009990000@c.us",
        "body": "Hola",
        "hasMedia": False,
        "ack": 1,
    },
}
# devlikeapro/waha issue #1418 (NOWEB): "from" is a hidden id and nothing else names the person.
WAHA_LID_ONLY = {
    "event": "message",
    "session": "default",
    "engine": "NOWEB",
    "payload": {
        "id": "false_176369157804064@lid_3A8E1EBFE4943CA06D82",
        "timestamp": 1759031179,
        "from": "176369157804064@lid",
        "fromMe": False,
        "source": "app",
        "body": "BAJA",
        "hasMedia": False,
        "media": None,
    },
}
# devlikeapro/waha issues #1689 (the NOWEB _data.key shape) and #2010 (a text message
# carries remoteJidAlt "…@s.whatsapp.net" next to the @lid).
WAHA_LID_WITH_ALT = {
    "event": "message",
    "session": "default",
    "engine": "NOWEB",
    "payload": {
        "id": "false_132375270973606@lid_3EB03166C14ACBB1F4A2F2",
        "timestamp": 1764640437,
        "from": "132375270973606@lid",
        "fromMe": False,
        "source": "app",
        "body": "Baja por favor",
        "hasMedia": False,
        "_data": {
            "key": {
                "remoteJid": "132375270973606@lid",
                "remoteJidAlt": "573001112233@s.whatsapp.net",
                "fromMe": False,
                "id": "3EB03166C14ACBB1F4A2F2",
                "addressingMode": "lid",
            },
            "messageTimestamp": 1764640437,
            "pushName": "Persona",
            "message": {"conversation": "Baja por favor"},
        },
    },
}
# GOWS (WAHA's whatsmeow engine): a webhook from WAHA 2026.1.3 GOWS as published in a public
# n8n workflow export, with _data being whatsmeow's events.Message, whose Info carries Sender
# (@lid) and SenderAlt (the phone JID) — the Info shape of tulir/whatsmeow issue #1262; WAHA
# issue #1724 is where the maintainer points to _data for the phone behind an @lid.
WAHA_GOWS_LID_WITH_SENDER_ALT = {
    "id": "evt_01kf3swbqgyssk8qevwzhf3ajw",
    "timestamp": 1768580591344,
    "event": "message",
    "session": "default",
    "metadata": {},
    "me": {"id": "573009990000@c.us", "pushName": "Óptica", "lid": "87678150291685@lid"},
    "payload": {
        "id": "false_38203818037365@lid_3AC22AE73E797638455D",
        "timestamp": 1768580591,
        "from": "38203818037365@lid",
        "fromMe": False,
        "source": "app",
        "body": "BAJA",
        "to": None,
        "participant": None,
        "hasMedia": False,
        "media": None,
        "ack": 2,
        "ackName": "DEVICE",
        "replyTo": None,
        "_data": {
            "Info": {
                "Chat": "38203818037365@lid",
                "Sender": "38203818037365@lid",
                "IsFromMe": False,
                "IsGroup": False,
                "AddressingMode": "",
                "SenderAlt": "573001112233@s.whatsapp.net",
                "RecipientAlt": "",
                "ID": "3AC22AE73E797638455D",
                "Type": "text",
                "PushName": "Persona",
                "Timestamp": "2026-01-16T16:23:11Z",
            },
            "Message": {"conversation": "BAJA"},
            "IsEphemeral": False,
            "Status": 3,
        },
    },
    "environment": {"version": "2026.1.3", "engine": "GOWS", "tier": "CORE", "browser": None},
}
# devlikeapro/waha docs, "Webhooks" → message.ack.
WAHA_ACK = {
    "event": "message.ack",
    "session": "default",
    "engine": "WEBJS",
    "payload": {
        "id": "true_573001112233@c.us_4CC5EDD64BC22EBA6D639F2AF571346C",
        "from": "573001112233@c.us",
        "to": "573009990000@c.us",
        "participant": None,
        "fromMe": True,
        "ack": 3,
        "ackName": "READ",
    },
}


def test_waha_messages_from_a_phone_and_from_hidden_ids():
    [phone] = gateway_events.parse_waha(WAHA_PHONE)
    [lid_only] = gateway_events.parse_waha(WAHA_LID_ONLY)
    [with_alt] = gateway_events.parse_waha(WAHA_LID_WITH_ALT)

    assert isinstance(phone, Inbound)
    assert (phone.phone, phone.lid, phone.message_id) == ("+573001112233", "", WAHA_PHONE["payload"]["id"])
    assert (lid_only.phone, lid_only.lid, lid_only.text) == ("", "176369157804064@lid", "BAJA")
    assert lid_only.sender_ref == "176369157804064@lid"
    assert (with_alt.phone, with_alt.lid, with_alt.phone_source) == (
        "+573001112233",
        "132375270973606@lid",
        "alt",
    )


def test_waha_gows_reads_the_phone_from_info_sender_alt():
    [inbound] = gateway_events.parse_waha(WAHA_GOWS_LID_WITH_SENDER_ALT)

    assert isinstance(inbound, Inbound)
    assert (inbound.phone, inbound.lid, inbound.phone_source) == (
        "+573001112233",
        "38203818037365@lid",
        "alt",
    )
    assert inbound.sender_ref == "38203818037365@lid"


def test_waha_ack_is_a_read_receipt():
    [receipt] = gateway_events.parse_waha(WAHA_ACK)

    assert receipt == Receipt(status="read", provider_id=WAHA_ACK["payload"]["id"])


def test_waha_group_messages_are_not_a_person_writing_to_us():
    group = {**WAHA_PHONE, "payload": {**WAHA_PHONE["payload"], "from": "120363025555555555@g.us"}}

    assert gateway_events.parse_waha(group) == []


# --- Evolution API -------------------------------------------------------------------------
# EvolutionAPI/evolution-api issue #2466 (v2.x, Baileys 7): an upsert with only the @lid.
EVOLUTION_LID_ONLY = {
    "event": "messages.upsert",
    "instance": "optica",
    "data": {
        "key": {"remoteJid": "13718@lid", "fromMe": False, "id": "3EB0A1B2C3D4E5F60718"},
        "pushName": "Rodrigo",
        "status": "DELIVERY_ACK",
        "message": {"conversation": "BAJA"},
        "messageType": "conversation",
        "messageTimestamp": 1773027345,
        "instanceId": "bae4",
        "source": "android",
    },
}
# EvolutionAPI/evolution-api PR #1955: Baileys 7 puts the phone in key.remoteJidAlt.
EVOLUTION_LID_WITH_ALT = {
    "event": "messages.upsert",
    "instance": "optica",
    "data": {
        "key": {
            "remoteJid": "13718@lid",
            "remoteJidAlt": "573001112233@s.whatsapp.net",
            "fromMe": False,
            "id": "3EB0A1B2C3D4E5F60719",
        },
        "pushName": "Rodrigo",
        "message": {"extendedTextMessage": {"text": "no más"}},
        "messageType": "extendedTextMessage",
        "messageTimestamp": 1773027346,
    },
}
# EvolutionAPI/evolution-api issue #1340 (a v2 upsert from a phone number).
EVOLUTION_PHONE = {
    "event": "messages.upsert",
    "instance": "optica",
    "data": {
        "key": {"remoteJid": "573001112233@s.whatsapp.net", "fromMe": False, "id": "3EB0C767D097B7C7C030"},
        "pushName": "Persona",
        "message": {"conversation": "Hola"},
        "messageType": "conversation",
        "messageTimestamp": 1742990000,
    },
}
# EvolutionAPI/evolution-api issue #2010: messages.update as v2.3 posts it.
EVOLUTION_UPDATE = {
    "event": "messages.update",
    "instance": "optica",
    "data": {
        "keyId": "A5561E44C2A63682E4295B52F484C14E",
        "remoteJid": "200000000000@s.whatsapp.net",
        "fromMe": True,
        "participant": "200000000000@s.whatsapp.net",
        "status": "READ",
        "instanceId": "abb8e7b9-7586-6462-95c4",
        "messageId": "cmfyoow42000hov4xwkdug3lv",
    },
}


def test_evolution_upserts_from_a_phone_and_from_hidden_ids():
    [phone] = gateway_events.parse_evolution(EVOLUTION_PHONE)
    [lid_only] = gateway_events.parse_evolution(EVOLUTION_LID_ONLY)
    [with_alt] = gateway_events.parse_evolution(EVOLUTION_LID_WITH_ALT)

    assert (phone.phone, phone.lid, phone.message_id) == ("+573001112233", "", "3EB0C767D097B7C7C030")
    assert (lid_only.phone, lid_only.lid, lid_only.text) == ("", "13718@lid", "BAJA")
    assert (with_alt.phone, with_alt.lid, with_alt.phone_source, with_alt.text) == (
        "+573001112233",
        "13718@lid",
        "alt",
        "no más",
    )


def test_evolution_update_is_a_read_receipt():
    assert gateway_events.parse_evolution(EVOLUTION_UPDATE) == [
        Receipt(status="read", provider_id="A5561E44C2A63682E4295B52F484C14E")
    ]


# --- Meta Cloud API ------------------------------------------------------------------------
def meta_value(message: dict, contact: dict) -> dict:
    # A messages webhook: the envelope of david-lev/pywa tests/data/updates/message.json
    # ("text": entry[].changes[].value with metadata, contacts[] carrying wa_id next to the
    # business-scoped user_id, and messages[]); from_user_id in place of "from" is Cloud API
    # v25's business-scoped id (pywa: only one of wa_id / user_id may be present).
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15556481025",
                                "phone_number_id": "1088451004357858",
                            },
                            "contacts": [contact],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }


META_WITH_PHONE = meta_value(
    {
        "from": "573001112233",
        "from_user_id": "CO.1410018717833190",
        "id": "wamid.HBgMOTE5ODEwMjE4Njc0FQIAEhggQUM4Q0I2MzlGQzA0NDhFOUIwOTJGMjVERTZCRDY3MTMA",
        "timestamp": "1779372805",
        "text": {"body": "BAJA"},
        "type": "text",
    },
    {"profile": {"name": "Persona"}, "wa_id": "573001112233", "user_id": "CO.1410018717833190"},
)
# The same without the phone: a person Meta names only by the business-scoped user id.
META_USER_ID_ONLY = meta_value(
    {
        "from_user_id": "US.13491208655302741918",
        "id": "wamid.HBgMOTE5ODEwMjE4Njc0FQIAEhggQUM4Q0I2MzlGQzA0NDhFOUIwOTJGMjVERTZCRDY3MTQA",
        "timestamp": "1779372806",
        "text": {"body": "BAJA"},
        "type": "text",
    },
    {"profile": {"name": "Persona"}, "user_id": "US.13491208655302741918"},
)


def test_meta_messages_with_a_phone_and_with_only_a_user_id():
    [with_phone] = events.parse_meta(META_WITH_PHONE)
    [user_id_only] = events.parse_meta(META_USER_ID_ONLY)

    assert (with_phone.phone, with_phone.text) == ("+573001112233", "BAJA")
    assert user_id_only.phone == ""  # never "+13491208655302741918"
    assert user_id_only.sender_ref == "US.13491208655302741918"
    assert user_id_only.message_id.startswith("wamid.")


def test_a_meta_user_id_is_never_read_as_a_phone():
    assert events.phone_from("US.13491208655302741918") == ""
    assert events.phone_from("CO.1410018717833190") == ""
    assert events.phone_from("573001112233") == "+573001112233"
    assert events.phone_from("whatsapp:+573001112233") == "+573001112233"


def test_meta_stop_promotions_with_only_a_user_id_keeps_the_id():
    # david-lev/pywa tests/data/updates/user_marketing_preferences.json ("resume"), with the
    # value "stop" (pywa's MarketingPreference: stop or resume; its detail text "User requested
    # to stop marketing messages") and the person named only by the business-scoped user_id,
    # which pywa reads in place of wa_id when Meta leaves the phone out.
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Persona"},
                                    "user_id": "US.13491208655302741918",
                                    "parent_user_id": "US.ENT.11815799212886844830",
                                }
                            ],
                            "user_preferences": [
                                {
                                    "user_id": "US.13491208655302741918",
                                    "detail": "User requested to stop marketing messages",
                                    "category": "marketing_messages",
                                    "value": "stop",
                                    "timestamp": 1767366000,
                                }
                            ],
                        },
                        "field": "user_preferences",
                    }
                ],
            }
        ],
    }

    assert events.parse_meta(body) == [StopPromotions("", "US.13491208655302741918")]


def meta_statuses(state: str, wamid: str, **extra: object) -> dict:
    # david-lev/pywa tests/data/updates/message_status.json ("sent", "delivered", "read",
    # "failed"): a messages webhook whose value carries statuses[] (id, status, timestamp,
    # recipient_id; conversation and pricing once billable; errors[] when failed).
    item: dict = {"id": wamid, "status": state, "timestamp": "1698266945", "recipient_id": "573002000000"}
    if state == "sent":
        item["conversation"] = {
            "id": "7270432eae37498234f4444b35ffc5",
            "expiration_timestamp": "1698339900",
            "origin": {"type": "marketing"},
        }
    if state in ("sent", "delivered", "read"):
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "marketing"}
    item.update(extra)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Persona"},
                                    "wa_id": "573002000000",
                                    "user_id": "CO.1410018717833190",
                                }
                            ],
                            "statuses": [item],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def meta_error(code: int, title: str, details: str) -> dict:
    # pywa's "failed" status: errors[] with code, title, message, error_data.details and href.
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


# pywa's own failed example: 130472, the person's number is part of a Meta experiment.
META_FAILED_EXPERIMENT = meta_error(
    130472,
    "User's number is part of an experiment",
    "Failed to send message because this user's phone number is part of an experiment",
)
# The same shape with 131048, "Spam rate limit hit" in Meta's error-code table.
META_FAILED_SPAM = meta_error(
    131048,
    "Spam rate limit hit",
    "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
)


@pytest.mark.django_db
def test_meta_statuses_are_recorded_on_the_message(client, make_campaign):
    campaign = make_campaign(1, sender=cloud_sender())
    message = put(
        campaign.messages.get(), MessageStatus.SENT, provider_message_id="wamid.HBgMNTczMDAyMDAwMDAw"
    )

    for state in ("sent", "delivered", "read"):
        assert meta.post(client, meta_statuses(state, message.provider_message_id)).status_code == 200

    message.refresh_from_db()
    assert message.delivery_status == "read"
    assert message.delivered_at is not None and message.read_at is not None


@pytest.mark.django_db
def test_a_failed_meta_status_is_recorded_with_its_error(client, make_campaign):
    campaign = make_campaign(1, sender=cloud_sender())
    message = put(
        campaign.messages.get(), MessageStatus.SENT, provider_message_id="wamid.HBgMNTczMDAyMDAwMDAx"
    )

    meta.post(client, meta_statuses("failed", message.provider_message_id, errors=[META_FAILED_EXPERIMENT]))

    message.refresh_from_db()
    assert message.delivery_status == "failed"
    assert "130472" in message.last_error
    assert not Sender.objects.get(pk=campaign.sender_id).is_braked(timezone.now())


@pytest.mark.django_db
def test_a_failed_meta_status_for_spam_brakes_the_number(client, make_campaign):
    campaign = make_campaign(1, sender=cloud_sender())
    message = put(
        campaign.messages.get(), MessageStatus.SENT, provider_message_id="wamid.HBgMNTczMDAyMDAwMDAy"
    )

    meta.post(client, meta_statuses("failed", message.provider_message_id, errors=[META_FAILED_SPAM]))

    sender = Sender.objects.get(pk=campaign.sender_id)
    assert sender.is_braked(timezone.now())
    assert "131048" in sender.pause_reason


# --- Twilio --------------------------------------------------------------------------------
# Twilio's docs, "WhatsApp webhooks": the form fields of an incoming WhatsApp message.
TWILIO_INBOUND = {
    "SmsMessageSid": "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
    "NumMedia": "0",
    "ProfileName": "Persona",
    "MessageType": "text",
    "SmsSid": "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
    "WaId": "573001112233",
    "SmsStatus": "received",
    "Body": "STOP",
    "To": "whatsapp:+14155238886",
    "NumSegments": "1",
    "ReferralNumMedia": "0",
    "MessageSid": "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
    "AccountSid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "From": "whatsapp:+573001112233",
    "ApiVersion": "2010-04-01",
}


def test_twilio_inbound_carries_the_phone_and_the_message_sid():
    [event] = events.parse_twilio_inbound(TWILIO_INBOUND)

    assert (event.phone, event.text, event.message_id) == (
        "+573001112233",
        "STOP",
        TWILIO_INBOUND["MessageSid"],
    )


def test_twilio_status_callback_is_a_receipt():
    # Twilio's docs, "Track the message status of outbound messages": a status callback is the
    # standard request properties (MessageSid, SmsSid, SmsStatus, AccountSid, From, To,
    # ApiVersion) plus MessageStatus and ErrorCode; WhatsApp ones add ChannelPrefix. 63016 is
    # "Failed to send freeform message because you are outside the allowed window".
    form = {
        "SmsSid": "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        "SmsStatus": "undelivered",
        "MessageStatus": "undelivered",
        "ErrorCode": "63016",
        "To": "whatsapp:+573001112233",
        "ChannelPrefix": "whatsapp",
        "MessageSid": "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        "AccountSid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "From": "whatsapp:+14155238886",
        "ApiVersion": "2010-04-01",
    }

    [receipt] = events.parse_twilio_status(form, "5b1f0c0e-0000-4000-8000-000000000000")

    assert (receipt.status, receipt.error_code) == ("failed", "63016")
