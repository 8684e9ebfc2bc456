"""A fake Evolution API (v2): sendText with its typing ``delay``, and the connection state."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from tests.fakes.server import Answer, FakeServer, Recorded, Reply

API_KEY = "evolution-api-key-for-tests"
INSTANCE = "optica"
WEBHOOK_SECRET = "evolution-webhook-secret"
SEND_PATH = re.compile(r"^/message/(?P<kind>sendText|sendMedia)/(?P<instance>[^/]+)$")
BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
STATE_PATH = re.compile(r"^/instance/connectionState/(?P<instance>[^/]+)$")


def envelope(status: int, message: Any) -> Reply:
    """Evolution's error body: ``{"status", "error", "response": {"message"}}``."""
    names = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error"}
    return Reply(
        status,
        {"status": status, "error": names.get(status, "Error"), "response": {"message": message}},
    )


class FakeEvolution(FakeServer):
    """``state`` is the instance's connection; ``not_on_whatsapp`` numbers fail with exists:false.

    The typing ``delay`` is honoured (scaled by ``delay_scale``) before answering, as the
    real server only answers after it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.state = "open"
        # Kept by Evolution on the instance row when it gives up reconnecting (401, 403...).
        self.disconnection_code: int | None = None
        self.disconnection_at: str | None = None
        self.not_on_whatsapp: set[str] = set()
        self.delay_scale = 0.0
        self.sent: list[dict[str, Any]] = []

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"base_url": self.url, "api_key": API_KEY, "instance": INSTANCE} | extra

    def answer(self, request: Recorded) -> Answer:
        if request.headers.get("apikey") != API_KEY:
            return envelope(401, "Unauthorized")
        sending = SEND_PATH.match(request.path)
        if request.method == "POST" and sending:
            if sending["instance"] != INSTANCE:
                return envelope(404, [f'The "{sending["instance"]}" instance does not exist'])
            if sending["kind"] == "sendMedia":
                return self.send_media(request)
            return self.send_text(request)
        state = STATE_PATH.match(request.path)
        if request.method == "GET" and state:
            if state["instance"] != INSTANCE:
                return envelope(404, [f'The "{state["instance"]}" instance does not exist'])
            return Reply(200, {"instance": {"instanceName": INSTANCE, "state": self.state}})
        if request.method == "GET" and request.path == "/instance/fetchInstances":
            return Reply(200, self.instances(request.query.get("instanceName", [""])[0]))
        return envelope(404, [f"Cannot {request.method} {request.path}"])

    def instances(self, name: str) -> list[dict[str, Any]]:
        """fetchInstances: the instance rows as Evolution v2 stores them (its Prisma ``Instance``
        model: connectionStatus, disconnectionReasonCode, disconnectionObject, disconnectionAt)."""
        if name and name != INSTANCE:
            return []
        return [
            {
                "id": "2b8e3c0a-0000-4000-8000-000000000000",
                "name": INSTANCE,
                "connectionStatus": self.state,
                "ownerJid": "573009990000@s.whatsapp.net",
                "integration": "WHATSAPP-BAILEYS",
                "disconnectionReasonCode": self.disconnection_code,
                "disconnectionObject": None,
                "disconnectionAt": self.disconnection_at,
                "createdAt": "2026-01-01T10:00:00.000Z",
                "updatedAt": "2026-01-02T10:00:00.000Z",
            }
        ]

    def send_text(self, request: Recorded) -> Answer:
        body = request.json()
        number = str(body.get("number") or "")
        if not str(body.get("text") or "").strip():
            return envelope(400, ['instance requires property "text"'])
        if self.state != "open":
            return envelope(500, "Connection Closed")
        jid = f"{number}@s.whatsapp.net"
        if number in self.not_on_whatsapp:
            return envelope(400, [{"jid": jid, "exists": False, "number": number}])
        delay = body.get("delay")
        if isinstance(delay, int) and delay > 0 and self.delay_scale:
            time.sleep(delay / 1000 * self.delay_scale)
        key_id = "3EB0" + secrets.token_hex(8).upper()
        self.sent.append({"number": number, "id": key_id, "body": body})
        return Reply(
            201,
            {
                "key": {"remoteJid": jid, "fromMe": True, "id": key_id},
                "pushName": "Você",
                "status": "PENDING",
                "message": {"conversation": body["text"]},
                "contextInfo": None,
                "messageType": "conversation",
                "messageTimestamp": int(time.time()),
                "instanceId": "2b8e3c0a-0000-4000-8000-000000000000",
                "source": "unknown",
            },
        )

    def send_media(self, request: Recorded) -> Answer:
        """sendMedia as src/api/controllers/sendMessage.controller.ts checks it: ``media`` a URL
        or base64, a base64 document with its ``fileName``; ``mediatype`` from the schema's enum."""
        body = request.json()
        media = str(body.get("media") or "")
        if body.get("mediatype") not in ("image", "document", "video", "audio"):
            return envelope(400, ["instance.mediatype is not one of enum values: image,document,video,audio"])
        is_url = media.startswith(("http://", "https://"))
        if is_url is False and not BASE64.match(media):
            return envelope(400, "Owned media must be a url or base64")
        if not is_url and body["mediatype"] == "document" and not body.get("fileName"):
            return envelope(400, "For base64 the file name must be informed.")
        if self.state != "open":
            return envelope(500, "Connection Closed")
        number = str(body.get("number") or "")
        key_id = "3EB0" + secrets.token_hex(8).upper()
        self.sent.append({"number": number, "id": key_id, "body": body})
        message_type = body["mediatype"] + "Message"
        return Reply(
            201,
            {
                "key": {"remoteJid": f"{number}@s.whatsapp.net", "fromMe": True, "id": key_id},
                "pushName": "Você",
                "status": "PENDING",
                "message": {message_type: {"caption": body.get("caption"), "mimetype": body.get("mimetype")}},
                "messageType": message_type,
                "messageTimestamp": int(time.time()),
                "instanceId": "2b8e3c0a-0000-4000-8000-000000000000",
                "source": "unknown",
            },
        )


def webhook(event: str, data: Any, instance: str = INSTANCE) -> dict[str, Any]:
    """An Evolution webhook body (v2, one URL for every event)."""
    return {
        "event": event,
        "instance": instance,
        "data": data,
        "destination": "https://promos.example.com/webhooks/evolution/...",
        "date_time": "2026-01-02T10:00:00.000Z",
        "sender": "573009990000@s.whatsapp.net",
        "server_url": "http://localhost:8080",
        "apikey": "instance-token",
    }


def inbound(phone: str, text: str, *, group: bool = False) -> dict[str, Any]:
    jid = f"{phone.lstrip('+')}@" + ("g.us" if group else "s.whatsapp.net")
    return webhook(
        "messages.upsert",
        {
            "key": {"remoteJid": jid, "fromMe": False, "id": "3EB0INBOUND"},
            "pushName": "Persona",
            "message": {"conversation": text},
            "messageType": "conversation",
            "messageTimestamp": 1767366000,
        },
    )


def ack(key_id: str, phone: str, status: str) -> dict[str, Any]:
    return webhook(
        "messages.update",
        {
            "keyId": key_id,
            "remoteJid": f"{phone.lstrip('+')}@s.whatsapp.net",
            "fromMe": True,
            "status": status,
            "instanceId": "2b8e3c0a-0000-4000-8000-000000000000",
        },
    )


def connection(state: str, reason: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"instance": INSTANCE, "state": state}
    if reason is not None:
        data["statusReason"] = reason
    return webhook("connection.update", data)
