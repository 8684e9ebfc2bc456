"""A fake WAHA server: sessions, check-exists, typing and sendText, engine-specific answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import Answer, FakeServer, Recorded, Reply

API_KEY = "waha-api-key-for-tests"
SESSION = "default"
HMAC_KEY = "waha-hmac-key-for-tests"
SESSION_PATH = re.compile(r"^/api/sessions/(?P<session>[^/]+)$")
LID_PATH = re.compile(r"^/api/(?P<session>[^/]+)/lids/(?P<lid>[^/]+)$")
MEDIA_PATHS = ("/api/sendImage", "/api/sendFile", "/api/sendVideo")
PN_PATH = re.compile(r"^/api/(?P<session>[^/]+)/lids/pn/(?P<phone>[^/]+)$")


class FakeWaha(FakeServer):
    """``status`` is the session's; ``engine`` picks the sendText answer (NOWEB, WEBJS, EMPTY)."""

    def __init__(self) -> None:
        super().__init__()
        self.status = "WORKING"
        self.engine = "NOWEB"
        # WAHA Core refuses files with 422 (src/core/exceptions.ts, AvailableInPlusVersion).
        self.plus = True
        self.not_on_whatsapp: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        # Hidden ids WAHA knows: "4639135154355@lid" -> "573001112233@c.us".
        self.lids: dict[str, str] = {}

    def config(self, **extra: Any) -> dict[str, Any]:
        return {"base_url": self.url, "api_key": API_KEY, "session": SESSION} | extra

    def answer(self, request: Recorded) -> Answer:
        if request.headers.get("x-api-key") != API_KEY:
            return Reply(401, {"message": "Unauthorized", "statusCode": 401})
        session = SESSION_PATH.match(request.path)
        if request.method == "GET" and session:
            if session["session"] != SESSION:
                return self.missing(session["session"])
            return Reply(
                200,
                {
                    "name": SESSION,
                    "status": self.status,
                    "config": {"proxy": None, "webhooks": [], "debug": False},
                    "me": {"id": "573009990000@c.us", "pushName": "Óptica"},
                    "engine": {"engine": self.engine},
                },
            )
        if request.method == "GET" and request.path == "/api/contacts/check-exists":
            phone = request.query.get("phone", [""])[0]
            exists = phone not in self.not_on_whatsapp
            return Reply(200, {"numberExists": exists, "chatId": f"{phone}@c.us" if exists else None})
        lids = self.lids_answer(request)
        if lids is not None:
            return lids
        if request.method == "POST" and request.path in ("/api/startTyping", "/api/stopTyping"):
            return self.when_working(request, lambda body: Reply(201, {}))
        if request.method == "POST" and request.path == "/api/sendText":
            return self.when_working(request, self.send_text)
        if request.method == "POST" and request.path in MEDIA_PATHS:
            return self.when_working(request, self.send_media)
        return Reply(404, {"message": f"Cannot {request.method} {request.path}", "statusCode": 404})

    def lids_answer(self, request: Recorded) -> Reply | None:
        """The lids API as WAHA documents it (docs/how-to/contacts, "API - Lids"): the
        lid or phone may come as digits or with its ``@`` escaped; an unknown one answers
        200 with ``null`` on the other side."""
        path = unquote(request.path)
        if request.method != "GET":
            return None
        by_phone = PN_PATH.match(path)
        if by_phone:
            digits = by_phone["phone"].split("@")[0]
            pn = f"{digits}@c.us"
            found = next((lid for lid, known in self.lids.items() if known == pn), None)
            return Reply(200, {"lid": found, "pn": pn})
        by_lid = LID_PATH.match(path)
        if by_lid and by_lid["lid"] != "count":
            lid = by_lid["lid"].split("@")[0] + "@lid"
            return Reply(200, {"lid": lid, "pn": self.lids.get(lid)})
        return None

    def missing(self, name: str) -> Reply:
        return Reply(404, {"message": f"We didn't find a session with name '{name}'."})

    def when_working(self, request: Recorded, then) -> Answer:
        body = request.json()
        if body.get("session") != SESSION:
            return self.missing(str(body.get("session")))
        if self.status != "WORKING":
            return Reply(
                422,
                {
                    "error": "Session status is not as expected. Try again later or restart the session",
                    "session": SESSION,
                    "status": self.status,
                    "expected": ["WORKING"],
                },
            )
        return then(body)

    def send_text(self, body: dict[str, Any]) -> Answer:
        chat = str(body.get("chatId") or "")
        key_id = "3EB0" + secrets.token_hex(8).upper()
        self.sent.append({"chatId": chat, "id": key_id, "body": body})
        if self.engine == "EMPTY":
            return Reply(201, b"")
        if self.engine == "WEBJS":
            serialized = f"true_{chat}_{key_id}"
            return Reply(
                201,
                {
                    "_data": {"id": {"fromMe": True, "remote": chat, "id": key_id}},
                    "id": {"fromMe": True, "remote": chat, "id": key_id, "_serialized": serialized},
                    "ack": 0,
                    "body": body["text"],
                },
            )
        jid = chat.replace("@c.us", "@s.whatsapp.net")
        return Reply(
            201,
            {
                "key": {"remoteJid": jid, "fromMe": True, "id": key_id},
                "message": {"extendedTextMessage": {"text": body["text"]}},
                "messageTimestamp": "1738070128",
                "status": "PENDING",
            },
        )

    def send_media(self, body: dict[str, Any]) -> Answer:
        """sendImage/sendFile/sendVideo (src/api/chatting.controller.ts): ``file`` is a
        RemoteFile ``{mimetype, filename, url}`` or a BinaryFile ``{mimetype, filename, data}``."""
        if not self.plus:
            return Reply(
                422,
                {
                    "statusCode": 422,
                    "message": "The feature is available only in Plus version. Check this out: https://waha.devlike.pro/docs/how-to/plus-version/",
                    "error": "Unprocessable Entity",
                },
            )
        file = body.get("file") or {}
        if not file.get("mimetype") or not (file.get("url") or file.get("data")):
            return Reply(400, {"statusCode": 400, "message": "file must have mimetype and url or data"})
        chat = str(body.get("chatId") or "")
        key_id = "3EB0" + secrets.token_hex(8).upper()
        self.sent.append({"chatId": chat, "id": key_id, "body": body})
        return Reply(
            201,
            {
                "key": {"remoteJid": chat.replace("@c.us", "@s.whatsapp.net"), "fromMe": True, "id": key_id},
                "message": {"imageMessage": {"caption": body.get("caption")}},
                "messageTimestamp": "1738070128",
                "status": "PENDING",
            },
        )


def webhook(event: str, payload: dict[str, Any], session: str = SESSION) -> dict[str, Any]:
    """A WAHA webhook body."""
    return {
        "id": "evt_01aaaaaaaaaaaaaaaaaaaaaaaa",
        "timestamp": 1767366000000,
        "event": event,
        "session": session,
        "me": {"id": "573009990000@c.us", "pushName": "Óptica"},
        "payload": payload,
        "engine": "NOWEB",
        "environment": {"version": "2026.7.1", "engine": "NOWEB", "tier": "CORE"},
    }


def signed(body: dict[str, Any], key: str = HMAC_KEY) -> tuple[bytes, dict[str, str]]:
    """The bytes WAHA posts and its ``X-Webhook-Hmac`` headers."""
    raw = json.dumps(body).encode()
    digest = hmac.new(key.encode(), raw, hashlib.sha512).hexdigest()
    return raw, {"X-Webhook-Hmac": digest, "X-Webhook-Hmac-Algorithm": "sha512"}
