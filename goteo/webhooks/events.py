"""Provider webhook payloads read into a few plain events, with no database access.

Each provider reports the same things in its own shape: a delivery receipt for a message
we sent, a message a person wrote to us, a request to stop promotions, and a change in the
number's standing. ``goteo.receipts`` acts on the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Delivery states every provider is mapped into; "played" voice notes count as read.
SENT, DELIVERED, READ, FAILED = "sent", "delivered", "read", "failed"


@dataclass(frozen=True)
class Receipt:
    """What became of a message we sent (found by our uuid or the provider's id)."""

    status: str
    provider_id: str = ""
    message_uuid: str = ""
    at: datetime | None = None
    error_code: str = ""
    error: str = ""


@dataclass(frozen=True)
class Inbound:
    """A message a person wrote to one of our numbers.

    ``phone`` is empty when WhatsApp named the person only by a hidden id: ``sender_ref``
    keeps the id as the provider sent it, and ``lid`` the hidden id ("…@lid") if any.
    ``phone_source`` says where the phone came from: "from" or an alternate field "alt".
    """

    phone: str
    text: str
    account: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    sender_ref: str = ""
    lid: str = ""
    phone_source: str = "from"
    at: datetime | None = None


@dataclass(frozen=True)
class StopPromotions:
    """The person asked WhatsApp itself to stop this business's promotions.

    ``phone`` is empty when Meta named the person only by its user id (``sender_ref``).
    """

    phone: str
    sender_ref: str = ""
    account: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountAlert:
    """A change in a number's standing: connected or not, and whether to brake it."""

    reason: str
    account: dict[str, str] = field(default_factory=dict)
    connected: bool | None = None
    brake: bool = False
    # A gateway session that closed; only ``brake`` (a logout or ban code) makes it a ban sign.
    session_closed: bool = False
    # An automatic brake whose reason contains this is lifted (the provider took it back).
    lifts: str = ""
    # The number's standing changed: its remembered health check is asked again.
    recheck: bool = False


Event = Receipt | Inbound | StopPromotions | AccountAlert


def unix_time(value: Any) -> datetime | None:
    """A Unix-seconds timestamp (number or string) as an aware datetime."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    return datetime.fromtimestamp(seconds, UTC)


PHONE_CHARS = frozenset("0123456789+ -()")


def phone_from(address: Any) -> str:
    """``5511...@s.whatsapp.net``, ``whatsapp:+1...``, ``1650...`` -> ``+...``.

    "" for groups, channels, hidden ids ("…@lid") and anything that is not only a phone's
    characters: Meta's user ids ("US.1349…") carry digits but are not phones.
    """
    text = str(address or "").strip()
    if "@" in text and not text.endswith(("@c.us", "@s.whatsapp.net")):
        return ""  # groups, channels and hidden ids are not a person's phone
    user = text.removeprefix("whatsapp:").split("@")[0].split(":")[0]  # drop a device suffix
    if not user or not set(user) <= PHONE_CHARS:
        return ""
    digits = "".join(ch for ch in user if ch.isdigit())
    return f"+{digits}" if digits else ""


def lid_from(address: Any) -> str:
    """``4639135154355@lid`` (a device suffix dropped) -> ``4639135154355@lid``; else ""."""
    text = str(address or "").strip()
    if not text.endswith("@lid"):
        return ""
    user = text.split("@")[0].split(":")[0]
    return f"{user}@lid" if user.isdigit() else ""


def is_group(address: Any) -> bool:
    """Groups, broadcast lists, status updates and channels: not a person writing to us."""
    return str(address or "").endswith(("@g.us", "@broadcast", "@newsletter"))


def person(candidates: list[Any]) -> tuple[str, str, str]:
    """The phone, the hidden id and where the phone came from, among a payload's ids.

    The first candidate is the sender's main id; the others are alternate fields.
    """
    phone, lid, source = "", "", "from"
    for index, candidate in enumerate(candidates):
        if not phone and (found := phone_from(candidate)):
            phone, source = found, "from" if index == 0 else "alt"
        lid = lid or lid_from(candidate)
    return phone, lid, source


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if value else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- Meta Cloud API ------------------------------------------------------------------------
META_DELIVERY = {
    "sent": SENT,
    "delivered": DELIVERED,
    "read": READ,
    "played": READ,
    "failed": FAILED,
}
# ``phone_number_quality_update`` reports changes of a number's throughput level or messaging
# limit (Meta's webhook reference, updated 2026): FLAGGED means its quality fell and Meta is
# about to limit it; UNFLAGGED, UPGRADE, THROUGHPUT_UPGRADE and ONBOARDING are good news, and
# a DOWNGRADE lowers a limit far above a shop's daily cap. Only FLAGGED (or a RED rating)
# brakes; every event makes the next health check ask Meta (quality RED, health BLOCKED).
META_QUALITY_ALERTS = frozenset({"FLAGGED"})
META_ACCOUNT_ALERTS = frozenset(
    {"ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED"}
)
# DISABLED_UPDATE's ``ban_info.waba_ban_state``: REINSTATE means Meta gave the account back.
META_DISABLED = "DISABLED_UPDATE"
META_REINSTATED = "REINSTATE"


def parse_meta(payload: Any) -> list[Event]:
    """Events in a Cloud API webhook (``object: whatsapp_business_account``)."""
    events: list[Event] = []
    for entry in as_list(as_dict(payload).get("entry")):
        entry = as_dict(entry)
        for change in as_list(entry.get("changes")):
            change = as_dict(change)
            value = as_dict(change.get("value"))
            field_name = change.get("field")
            if field_name == "messages":
                events.extend(meta_messages(value))
            elif field_name == "user_preferences":
                events.extend(meta_preferences(value))
            elif field_name == "phone_number_quality_update":
                events.extend(meta_quality(value))
            elif field_name == "account_update":
                events.extend(meta_account(value, str(entry.get("id") or "")))
    return events


def meta_messages(value: dict[str, Any]) -> list[Event]:
    account = {"phone_number_id": str(as_dict(value.get("metadata")).get("phone_number_id") or "")}
    events: list[Event] = []
    for status in as_list(value.get("statuses")):
        status = as_dict(status)
        state = META_DELIVERY.get(str(status.get("status")))
        if state is None:
            continue
        error = as_dict((as_list(status.get("errors")) or [{}])[0])
        events.append(
            Receipt(
                status=state,
                provider_id=str(status.get("id") or ""),
                message_uuid=str(status.get("biz_opaque_callback_data") or ""),
                at=unix_time(status.get("timestamp")),
                error_code=str(error.get("code") or ""),
                error=str(
                    as_dict(error.get("error_data")).get("details")
                    or error.get("title")
                    or error.get("message")
                    or ""
                ),
            )
        )
    # Since Graph v25 a person may be named only by a business-scoped user id
    # ("from_user_id", e.g. "US.1349…"): it is kept as is, never read as a phone.
    for message in as_list(value.get("messages")):
        message = as_dict(message)
        phone = phone_from(message.get("from"))
        user_id = str(message.get("from_user_id") or "")
        events.append(
            Inbound(
                phone,
                meta_text(message),
                account,
                message_id=str(message.get("id") or ""),
                sender_ref=str(message.get("from") or user_id),
                at=unix_time(message.get("timestamp")),
            )
        )
    return events


def meta_text(message: dict[str, Any]) -> str:
    """The words of an inbound message: text, a quick-reply button, or a list/button reply."""
    kind = message.get("type")
    if kind == "text":
        return str(as_dict(message.get("text")).get("body") or "")
    if kind == "button":
        button = as_dict(message.get("button"))
        return str(button.get("text") or button.get("payload") or "")
    if kind == "interactive":
        interactive = as_dict(message.get("interactive"))
        reply = as_dict(interactive.get("button_reply")) or as_dict(interactive.get("list_reply"))
        return str(reply.get("title") or "")
    return ""


def meta_preferences(value: dict[str, Any]) -> list[Event]:
    events: list[Event] = []
    for preference in as_list(value.get("user_preferences")):
        preference = as_dict(preference)
        if str(preference.get("value")).lower() == "stop":
            phone = phone_from(preference.get("wa_id"))
            user_id = str(preference.get("user_id") or "")
            if phone or user_id:
                events.append(StopPromotions(phone, str(preference.get("wa_id") or user_id)))
    return events


def meta_quality(value: dict[str, Any]) -> list[Event]:
    event = str(value.get("event") or "").upper()
    rating = str(value.get("new_quality_score") or value.get("quality_rating") or "").upper()
    account = {"display_phone_number": str(value.get("display_phone_number") or "")}
    limit = value.get("max_daily_conversations_per_business") or value.get("current_limit") or ""
    if event not in META_QUALITY_ALERTS and rating != "RED":
        reason = f"Meta cambió el nivel del número ({event or '?'}" + (f", límite {limit})" if limit else ")")
        return [AccountAlert(reason, account, recheck=True)]
    reason = f"Meta marcó la calidad del número ({event or rating}" + (f", límite {limit})" if limit else ")")
    return [AccountAlert(reason, account, brake=True, recheck=True)]


def meta_account(value: dict[str, Any], waba_id: str) -> list[Event]:
    event = str(value.get("event") or "").upper()
    if event not in META_ACCOUNT_ALERTS:
        return []
    info = as_dict(value.get("violation_info")) or as_dict(value.get("ban_info"))
    detail = str(info.get("violation_type") or info.get("waba_ban_state") or "")
    account = {"waba_id": waba_id}
    if event == META_DISABLED and detail.upper() == META_REINSTATED:
        reason = f"Meta rehabilitó la cuenta de WhatsApp ({event}: {detail})"
        return [AccountAlert(reason, account, lifts=META_DISABLED, recheck=True)]
    reason = f"Meta restringió la cuenta de WhatsApp ({event}" + (f": {detail})" if detail else ")")
    return [AccountAlert(reason, account, brake=True)]


# --- Twilio --------------------------------------------------------------------------------
TWILIO_DELIVERY = {
    "sent": SENT,
    "delivered": DELIVERED,
    "read": READ,
    "failed": FAILED,
    "undelivered": FAILED,
}


def parse_twilio_status(form: dict[str, str], message_uuid: str) -> list[Event]:
    """A Twilio StatusCallback (form fields) for the message with ``message_uuid``."""
    state = TWILIO_DELIVERY.get(form.get("MessageStatus") or form.get("SmsStatus") or "")
    if state is None:
        return []
    return [
        Receipt(
            status=state,
            provider_id=form.get("MessageSid") or form.get("SmsSid") or "",
            message_uuid=message_uuid,
            error_code=form.get("ErrorCode") or "",
            error=form.get("ErrorMessage") or "",
        )
    ]


def parse_twilio_inbound(form: dict[str, str]) -> list[Event]:
    """A message a person sent to our Twilio WhatsApp number."""
    sender_ref = form.get("From") or ""
    text = form.get("Body") or form.get("ButtonText") or ""
    message_id = form.get("MessageSid") or form.get("SmsSid") or ""
    if not (sender_ref or message_id):
        return []
    return [
        Inbound(
            phone_from(sender_ref),
            text,
            {"account_sid": form.get("AccountSid") or ""},
            message_id=message_id,
            sender_ref=sender_ref,
        )
    ]
