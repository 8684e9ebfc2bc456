"""Cloud API webhook bodies as Meta sends them, and their X-Hub-Signature-256."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from tests.fakes.cloud import PHONE_NUMBER_ID

APP_SECRET = "app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
WABA_ID = "102290129340398"


def envelope(field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": field, "value": value}]}],
    }


def metadata() -> dict[str, str]:
    return {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID}


def status(
    wamid: str,
    state: str,
    recipient: str,
    *,
    timestamp: int = 1767366000,
    opaque: str | None = None,
    error_code: int | None = None,
) -> dict[str, Any]:
    """One ``statuses[]`` item: sent, delivered, read or failed (with ``errors``)."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": recipient.lstrip("+"),
    }
    if opaque is not None:
        item["biz_opaque_callback_data"] = opaque
    if state in ("sent", "delivered", "read"):
        item["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": "marketing",
        }
    if error_code is not None:
        item["errors"] = [
            {
                "code": error_code,
                "title": "Message failed",
                "message": "Message failed",
                "error_data": {"details": f"detalle del error {error_code}"},
                "href": "/documentation/business-messaging/whatsapp/support/error-codes",
            }
        ]
    return item


def statuses(*items: dict[str, Any]) -> dict[str, Any]:
    return envelope(
        "messages",
        {"messaging_product": "whatsapp", "metadata": metadata(), "statuses": list(items)},
    )


def inbound_text(phone: str, text: str, *, timestamp: int = 1767366000) -> dict[str, Any]:
    digits = phone.lstrip("+")
    return envelope(
        "messages",
        {
            "messaging_product": "whatsapp",
            "metadata": metadata(),
            "contacts": [{"profile": {"name": "Persona"}, "wa_id": digits}],
            "messages": [
                {
                    "from": digits,
                    "id": "wamid.IN" + digits,
                    "timestamp": str(timestamp),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        },
    )


def stop_promotions(phone: str) -> dict[str, Any]:
    digits = phone.lstrip("+")
    return envelope(
        "user_preferences",
        {
            "messaging_product": "whatsapp",
            "metadata": metadata(),
            "contacts": [{"wa_id": digits, "profile": {"name": "Persona"}}],
            "user_preferences": [
                {
                    "wa_id": digits,
                    "detail": "User requested to stop marketing messages",
                    "category": "marketing_messages",
                    "value": "stop",
                    "timestamp": 1767366000,
                }
            ],
        },
    )


def quality_update(event: str = "FLAGGED") -> dict[str, Any]:
    return envelope(
        "phone_number_quality_update",
        {"display_phone_number": "15550783881", "event": event, "current_limit": "TIER_250"},
    )


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    """The ``X-Hub-Signature-256`` header Meta sends with ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(payload: dict[str, Any], secret: str = APP_SECRET) -> tuple[bytes, str]:
    """The exact bytes to post and their ``X-Hub-Signature-256`` header."""
    body = json.dumps(payload).encode()
    return body, signature(body, secret)


def post(client: Any, payload: dict[str, Any], secret: str = APP_SECRET, header: str | None = None):
    """POST a webhook to goteo with Django's test client, signed unless told otherwise."""
    body, good = signed(payload, secret)
    headers = {} if header == "" else {"X-Hub-Signature-256": header or good}
    return client.post("/webhooks/cloud/", data=body, content_type="application/json", headers=headers)
