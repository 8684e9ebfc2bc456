"""Senders on the real providers and messages put in a given state, for webhook tests."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from goteo.models import Message, Sender
from tests.fakes.cloud import PHONE_NUMBER_ID, TOKEN
from tests.fakes.meta_webhooks import APP_SECRET, VERIFY_TOKEN


def cloud_sender(name: str = "meta", base_url: str = "http://127.0.0.1:9", **config: Any) -> Sender:
    """A stored Cloud API sender whose webhooks are signed with ``APP_SECRET``."""
    return Sender.objects.create(
        name=name,
        backend="cloud",
        daily_cap=100,
        config={"phone_number_id": PHONE_NUMBER_ID, "base_url": base_url} | config,
        secrets={"token": TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
    )


def put(message: Message, status: str, **fields: Any) -> Message:
    """Move ``message`` to ``status`` the way goteo does (counters kept exact)."""
    Message.move(Message.objects.filter(pk=message.pk), status, timezone.now(), **fields)
    message.refresh_from_db()
    return message


def twilio_sender(name: str = "twilio", base_url: str = "http://127.0.0.1:9") -> Sender:
    from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM

    return Sender.objects.create(
        name=name,
        backend="twilio",
        daily_cap=100,
        config={"account_sid": ACCOUNT_SID, "from": FROM, "base_url": base_url},
        secrets={"auth_token": AUTH_TOKEN},
    )


def evolution_sender(name: str = "evolution", base_url: str = "http://127.0.0.1:9") -> Sender:
    from tests.fakes.evolution import API_KEY, INSTANCE, WEBHOOK_SECRET

    return Sender.objects.create(
        name=name,
        backend="evolution",
        daily_cap=100,
        config={"base_url": base_url, "instance": INSTANCE},
        secrets={"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET},
    )


def waha_sender(name: str = "waha", base_url: str = "http://127.0.0.1:9") -> Sender:
    from tests.fakes.waha import API_KEY, HMAC_KEY, SESSION

    return Sender.objects.create(
        name=name,
        backend="waha",
        daily_cap=100,
        config={"base_url": base_url, "session": SESSION},
        secrets={"api_key": API_KEY, "webhook_hmac_key": HMAC_KEY},
    )
