"""WhatsApp-Web gateway webhook payloads (Evolution API, WAHA) read into goteo's events.

The shared event types and the helpers that read phones and hidden ids live in
``goteo.webhooks.events``, beside the Meta and Twilio readers.
"""

from __future__ import annotations

from typing import Any

from goteo.webhooks.events import (
    DELIVERED,
    FAILED,
    READ,
    SENT,
    AccountAlert,
    Event,
    Inbound,
    Receipt,
    as_dict,
    as_list,
    is_group,
    person,
    unix_time,
)

# --- Evolution API -------------------------------------------------------------------------
EVOLUTION_DELIVERY = {
    "SERVER_ACK": SENT,
    "DELIVERY_ACK": DELIVERED,
    "READ": READ,
    "PLAYED": READ,
    "ERROR": FAILED,
}
# Disconnection codes after which Baileys stops reconnecting: logged out, forbidden, banned.
EVOLUTION_BAN_CODES = frozenset({401, 402, 403, 406})


def parse_evolution(payload: Any) -> list[Event]:
    """Events in an Evolution API webhook (``{"event", "instance", "data"}``)."""
    payload = as_dict(payload)
    event = str(payload.get("event") or "").lower().replace("_", ".")
    account = {"instance": str(payload.get("instance") or "")}
    events: list[Event] = []
    if event == "messages.upsert":
        data = payload.get("data")
        items = as_list(as_dict(data).get("messages")) if "messages" in as_dict(data) else as_list(data)
        for item in items:
            item = as_dict(item)
            key = as_dict(item.get("key"))
            if key.get("fromMe"):
                continue
            if is_group(key.get("remoteJid")):
                continue
            message = as_dict(item.get("message"))
            text = message.get("conversation") or as_dict(message.get("extendedTextMessage")).get("text")
            # Baileys 7 keeps a hidden id in remoteJid and the phone, when WhatsApp gives
            # it, in remoteJidAlt; Baileys 6 called it senderPn.
            ids = [key.get("remoteJid"), key.get("remoteJidAlt"), key.get("senderPn")]
            phone, lid, source = person(ids)
            events.append(
                Inbound(
                    phone,
                    str(text or ""),
                    account,
                    message_id=str(key.get("id") or ""),
                    sender_ref=str(key.get("remoteJid") or ""),
                    lid=lid,
                    phone_source=source,
                    at=unix_time(item.get("messageTimestamp")),
                )
            )
    elif event == "messages.update":
        for item in as_list(payload.get("data")):
            item = as_dict(item)
            state = EVOLUTION_DELIVERY.get(str(item.get("status") or "").upper())
            if state and item.get("fromMe", True):
                provider_id = item.get("keyId") or as_dict(item.get("key")).get("id") or ""
                events.append(Receipt(status=state, provider_id=str(provider_id)))
    elif event == "connection.update":
        data = as_dict(payload.get("data"))
        state = str(data.get("state") or data.get("status") or "").lower()
        code = data.get("statusReason") or data.get("disconnectionReasonCode")
        if state == "open":
            events.append(AccountAlert("la sesión de WhatsApp se conectó", account, connected=True))
        elif state in ("close", "closed", "refused"):
            banned = isinstance(code, int) and code in EVOLUTION_BAN_CODES
            reason = f"la sesión de WhatsApp de Evolution se cerró (código {code or 'desconocido'})"
            events.append(AccountAlert(reason, account, connected=False, brake=banned, session_closed=True))
    return events


# --- WAHA ----------------------------------------------------------------------------------
WAHA_DELIVERY = {1: SENT, 2: DELIVERED, 3: READ, 4: READ, -1: FAILED}
WAHA_DOWN = frozenset({"STOPPED", "FAILED", "SCAN_QR_CODE"})


def parse_waha(payload: Any) -> list[Event]:
    """Events in a WAHA webhook (``{"event", "session", "payload"}``)."""
    payload = as_dict(payload)
    event = str(payload.get("event") or "")
    body = as_dict(payload.get("payload"))
    account = {"session": str(payload.get("session") or "")}
    if event == "message" and not body.get("fromMe"):
        if is_group(body.get("from")):
            return []
        # The engine's own message is in _data. NOWEB (Baileys) puts the phone in
        # key.remoteJidAlt (or senderPn) when "from" is a hidden id; GOWS (whatsmeow) in
        # Info.SenderAlt, next to Info.Sender.
        data = as_dict(body.get("_data"))
        key = as_dict(data.get("key"))
        info = as_dict(data.get("Info"))
        ids = [
            body.get("from"),
            key.get("remoteJidAlt"),
            key.get("senderPn"),
            info.get("SenderAlt"),
            key.get("remoteJid"),
        ]
        phone, lid, source = person(ids)
        return [
            Inbound(
                phone,
                str(body.get("body") or ""),
                account,
                message_id=str(body.get("id") or ""),
                sender_ref=str(body.get("from") or ""),
                lid=lid,
                phone_source=source,
                at=unix_time(body.get("timestamp")),
            )
        ]
    if event == "message.ack" and body.get("fromMe", True):
        ack = body.get("ack")
        state = WAHA_DELIVERY.get(ack) if isinstance(ack, int) else None
        if state is None:
            return []
        return [Receipt(status=state, provider_id=str(body.get("id") or ""))]
    if event == "session.status":
        status = str(body.get("status") or "")
        if status == "WORKING":
            return [AccountAlert("la sesión de WAHA está funcionando", account, connected=True)]
        if status in WAHA_DOWN:
            reason = f"la sesión de WAHA pasó a {status}"
            return [AccountAlert(reason, account, connected=False, session_closed=True)]
    return []
