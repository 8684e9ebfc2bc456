"""Brakes and opt-outs follow the providers' real codes: Meta's account and quality webhooks,
Twilio's error codes in an answer or a status callback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from goteo.models import Campaign, CampaignStatus, Contact, MessageStatus, Sender
from goteo.sending import Engine
from goteo.transports import OutgoingMessage, SendError
from goteo.transports.twilio import TwilioTransport
from tests.fakes import meta_webhooks as meta
from tests.fakes.records import cloud_sender, put, twilio_sender
from tests.fakes.twilio import FakeTwilio, twilio_error
from tests.test_webhooks_twilio import SID, status_params
from tests.test_webhooks_twilio import post as post_twilio

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).parent / "fixtures"


def reinstated() -> dict:
    # pywa's tests/data/updates/account_update.json, "account_disabled" (david-lev/pywa).
    return json.loads((FIXTURES / "meta_account_update_reinstate.json").read_text())


def disabled() -> dict:
    # The same webhook when Meta disables the account: waba_ban_state DISABLE (Meta's
    # account_update reference lists DISABLE, REINSTATE and SCHEDULE_FOR_DISABLE).
    payload = reinstated()
    payload["entry"][0]["changes"][0]["value"]["ban_info"]["waba_ban_state"] = "DISABLE"
    return payload


def quality(event: str) -> dict:
    # Meta's phone_number_quality_update reference: display number, event, old and current
    # limit, and max_daily_conversations_per_business, which replaces current_limit.
    value = {
        "display_phone_number": "15550783881",
        "event": event,
        "old_limit": "TIER_250",
        "current_limit": "TIER_1K",
        "max_daily_conversations_per_business": "1000",
    }
    return meta.envelope("phone_number_quality_update", value)


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(3, sender=cloud_sender())


def sender_of(campaign) -> Sender:
    return Sender.objects.get(pk=campaign.sender_id)


# --- Meta account_update ---------------------------------------------------------------------------
def test_a_reinstated_account_is_not_braked(client, campaign):
    response = meta.post(client, reinstated())

    assert response.status_code == 200
    assert not sender_of(campaign).is_braked(timezone.now())
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_a_disabled_account_is_braked_and_reinstating_it_lifts_that_brake_on_record(client, campaign):
    meta.post(client, disabled())
    sender = sender_of(campaign)
    assert sender.is_braked(timezone.now())
    assert "DISABLED_UPDATE: DISABLE" in sender.pause_reason

    meta.post(client, reinstated())

    sender = sender_of(campaign)
    assert not sender.is_braked(timezone.now())
    lift = sender.brake_log[-1]
    assert lift["kind"] == "lift"
    assert "REINSTATE" in lift["by"]
    campaign.refresh_from_db()
    assert campaign.status == "paused"  # a person resumes, after reading what happened


def test_reinstating_the_account_leaves_a_brake_for_another_reason(client, campaign):
    meta.post(client, quality("FLAGGED"))

    meta.post(client, reinstated())

    assert sender_of(campaign).is_braked(timezone.now())


# --- Meta phone_number_quality_update --------------------------------------------------------------
def test_a_flagged_number_is_braked(client, campaign):
    meta.post(client, quality("FLAGGED"))

    sender = sender_of(campaign)
    assert sender.is_braked(timezone.now())
    assert "FLAGGED" in sender.pause_reason


@pytest.mark.parametrize("event", ["UPGRADE", "THROUGHPUT_UPGRADE", "UNFLAGGED", "ONBOARDING", "DOWNGRADE"])
def test_a_throughput_change_is_not_a_brake_but_the_next_check_asks_meta(client, campaign, event):
    sender = sender_of(campaign)
    sender.health = {"connected": True, "detail": "ok", "extra": {}, "checked_at": timezone.now().isoformat()}
    sender.save()

    meta.post(client, quality(event))

    sender = sender_of(campaign)
    assert not sender.is_braked(timezone.now())
    assert sender.health == {}


# --- Twilio codes in the answer to a send ----------------------------------------------------------
def send_failing_with(code: int, status: int = 400) -> SendError:
    with FakeTwilio() as api:
        api.by_to["whatsapp:+573001112233"] = twilio_error(code, "detalle", status=status)
        with pytest.raises(SendError) as raised:
            TwilioTransport(api.config()).send(OutgoingMessage("+573001112233", "Hola", "id-1"))
    return raised.value


def test_twilio_63014_blocked_by_the_person_is_an_opt_out():
    error = send_failing_with(63014)

    assert error.kind == SendError.PERMANENT
    assert error.opted_out


def test_twilio_63018_a_limit_on_the_number_brakes_it_for_24_hours():
    # Twilio maps WhatsApp's 429 and 471 (spam rate limit) to 63018 (its error-code mapping).
    error = send_failing_with(63018, status=429)

    assert error.kind == SendError.BRAKE
    assert "24 horas" in error.reason
    now = timezone.now()
    assert error.brake_until(now, ZoneInfo("America/Bogota")) == now + timedelta(hours=24)


def test_a_63018_answer_stops_the_number_for_24_hours_not_just_the_message(make_campaign, clock):
    with FakeTwilio() as api:
        campaign = make_campaign(3, sender=twilio_sender(base_url=api.url))
        for message in campaign.messages.all():
            api.by_to[f"whatsapp:{message.phone}"] = twilio_error(63018, "Rate limit exceeded", status=429)
        lines: list[str] = []
        Engine(clock, max_wait=0, report=lines.append).run()

    sender = sender_of(campaign)
    assert sender.paused_until >= clock.now() + timedelta(hours=24)
    assert "24 horas" in sender.pause_reason
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED
    assert not campaign.messages.exclude(status=MessageStatus.PENDING).exists()
    assert api.created == []
    assert sum("63018" in line for line in lines) == 1, lines  # one refusal, then the number stopped


def test_twilio_63051_a_locked_account_brakes_the_number():
    error = send_failing_with(63051)

    assert error.kind == SendError.BRAKE
    assert "63051" in str(error)


# --- Twilio codes in a status callback -------------------------------------------------------------
@pytest.fixture
def twilio_campaign(make_campaign):
    return make_campaign(2, sender=twilio_sender())


def callback(client, message, code: str):
    return post_twilio(
        client, f"/webhooks/twilio/status/{message.uuid}/", status_params("undelivered", message.phone, code)
    )


def test_a_63014_callback_opts_the_person_out(client, twilio_campaign):
    message = put(twilio_campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)

    assert callback(client, message, "63014").status_code == 200

    contact = Contact.objects.get(pk=message.contact_id)
    assert contact.opted_out


def test_a_63051_callback_brakes_the_number(client, twilio_campaign):
    message = put(twilio_campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)

    callback(client, message, "63051")

    assert sender_of(twilio_campaign).is_braked(timezone.now())


def test_a_63018_callback_stops_the_number_for_24_hours_and_tries_the_message_again(client, twilio_campaign):
    message = put(twilio_campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)

    callback(client, message, "63018")

    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.next_attempt_at > timezone.now() + timedelta(hours=23)
    sender = sender_of(twilio_campaign)
    assert sender.paused_until >= timezone.now() + timedelta(hours=23, minutes=59)
    assert "WhatsApp limitó el número" in sender.pause_reason


def test_a_63018_callback_lengthens_a_brake_that_ends_tonight(client, twilio_campaign):
    sender = sender_of(twilio_campaign)
    sender.brake("Freno automático: otro motivo", timezone.now() + timedelta(minutes=5))
    message = put(twilio_campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)

    callback(client, message, "63018")

    assert sender_of(twilio_campaign).paused_until >= timezone.now() + timedelta(hours=23, minutes=59)


@pytest.mark.parametrize("code", ["131048", "131064", "131050", "131049"])
def test_meta_codes_in_a_twilio_callback_are_not_read_as_meta_s(client, twilio_campaign, code):
    # Twilio never sends Meta's codes in ErrorCode; it maps them to its own 63xxx.
    message = put(twilio_campaign.messages.first(), MessageStatus.SENT, provider_message_id=SID)

    callback(client, message, code)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.delivery_status == "failed"
    assert not sender_of(twilio_campaign).is_braked(timezone.now())
    assert not Contact.objects.get(pk=message.contact_id).opted_out
