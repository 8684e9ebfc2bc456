"""The fake WAHA's session management: create, start, QR, pairing code, logout, stop.

Shapes from WAHA's docs (devlikeapro/waha-docs ``content/docs/how-to/sessions/index.md``:
create answers the session with ``"me": null``; the QR as ``{"mimetype", "data"}`` with
``Accept: application/json``, else the PNG itself; ``request-code`` answers ``{"code":
"ABCD-ABCD"}``; logging out a running session starts it again from scratch) and source
(devlikeapro/waha ``src/api/sessions.controller.ts``: 422 "already exists" on create, 404
"Session not found"; ``src/nestjs/pipes/SessionPipe.ts``: the QR only in SCAN_QR_CODE, else the
422 "Session status is not as expected" of ``waitUntilStatus``). NestJS answers POST with 201.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.fakes.images import pattern_base64
from tests.fakes.server import Answer, Recorded, Reply
from tests.fakes.waha import API_KEY, SESSION, FakeWaha

ACTION_PATH = re.compile(r"^/api/sessions/(?P<session>[^/]+)/(?P<action>start|stop|restart|logout)$")
AUTH_PATH = re.compile(r"^/api/(?P<session>[^/]+)/auth/(?P<action>qr|request-code)$")
SESSION_PATH = re.compile(r"^/api/sessions/(?P<session>[^/]+)$")
PAIRING_CODE = "ABCD-ABCD"
OWNER = "573009990000@c.us"


class FakeWahaPairing(FakeWaha):
    """``exists`` says whether the session was created; ``link()`` plays the phone scanning."""

    def __init__(self) -> None:
        super().__init__()
        self.exists = False
        self.status = "STOPPED"
        self.qr_count = 0
        self.push_name = ""
        self.created: list[dict[str, Any]] = []

    def link(self, push_name: str = "Óptica Central") -> None:
        self.status = "WORKING"
        self.push_name = push_name

    def answer(self, request: Recorded) -> Answer:
        if request.headers.get("x-api-key") != API_KEY:
            return Reply(401, {"message": "Unauthorized", "statusCode": 401})
        if request.method == "POST" and request.path == "/api/sessions":
            return self.create(request.json())
        for pattern, handler in ((ACTION_PATH, self.action), (AUTH_PATH, self.auth)):
            found = pattern.match(request.path)
            if found and request.method in ("GET", "POST"):
                if found["session"] != SESSION or not self.exists:
                    return self.not_found()
                return handler(found["action"], request)
        found = SESSION_PATH.match(request.path)
        if found and request.method == "GET":
            if found["session"] != SESSION or not self.exists:
                return self.not_found()
            return Reply(200, self.info())
        return super().answer(request)

    def not_found(self) -> Reply:
        return Reply(404, {"message": "Session not found", "error": "Not Found", "statusCode": 404})

    def info(self) -> dict[str, Any]:
        working = self.status == "WORKING"
        return {
            "name": SESSION,
            "status": self.status,
            "config": {"proxy": None, "webhooks": [], "debug": False},
            "me": {"id": OWNER, "pushName": self.push_name} if working else None,
            "engine": {"engine": self.engine},
        }

    def create(self, body: dict[str, Any]) -> Answer:
        name = str(body.get("name") or "")
        if self.exists and name == SESSION:
            return Reply(
                422,
                {
                    "message": f"Session '{name}' already exists. Use PUT to update it.",
                    "error": "Unprocessable Entity",
                    "statusCode": 422,
                },
            )
        self.created.append(body)
        self.exists = name == SESSION
        self.status = "STOPPED"
        if body.get("start"):
            self.start_session()
        return Reply(201, self.info())

    def start_session(self) -> None:
        if self.status in ("STOPPED", "FAILED"):
            self.status = "SCAN_QR_CODE"
            self.qr_count += 1

    def action(self, action: str, request: Recorded) -> Answer:
        if action == "start":
            self.start_session()
        elif action == "stop":
            self.status = "STOPPED"
        elif action == "restart":
            self.status = "STOPPED"
            self.start_session()
        elif action == "logout":
            running = self.status != "STOPPED"
            self.status = "STOPPED"
            self.push_name = ""
            if running:
                self.start_session()
        return Reply(201, self.info())

    def auth(self, action: str, request: Recorded) -> Answer:
        if action == "request-code" and request.method == "POST":
            phone = str(request.json().get("phoneNumber") or "")
            if not phone.isdigit():
                return Reply(400, {"message": "phoneNumber must be digits", "statusCode": 400})
            return Reply(201, {"code": PAIRING_CODE})
        if action != "qr" or request.method != "GET":
            return Reply(404, {"message": f"Cannot {request.method} {request.path}", "statusCode": 404})
        if self.status != "SCAN_QR_CODE":
            return Reply(
                422,
                {
                    "error": "Session status is not as expected. Try again later or restart the session",
                    "session": SESSION,
                    "status": self.status,
                    "expected": ["SCAN_QR_CODE"],
                },
            )
        data = pattern_base64(self.qr_count)
        if request.headers.get("accept") == "application/json":
            return Reply(200, {"mimetype": "image/png", "data": data})
        return Reply(200, base64.b64decode(data), "image/png")
