"""The fake Evolution API's instance management: create, connect (QR and pairing code), logout.

Shapes from EvolutionAPI/evolution-api v2.3.6: routes in ``src/api/routes/instance.router.ts``
(create answers 201, the others 200), bodies in ``src/api/controllers/instance.controller.ts``
(``createInstance``, ``connectToWhatsapp``, ``connectionState``, ``logout``), the QR in
``whatsapp.baileys.service.ts`` (``get qrCode``: pairingCode, code, base64, count; base64 is a
``data:image/png;base64,`` URI from the ``qrcode`` package), the missing-instance 404 and the
name-in-use 403 in ``src/api/guards/instance.guard.ts``, the instance row of
``fetchInstances`` in ``prisma/postgresql-schema.prisma`` (model Instance).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.evolution import API_KEY, INSTANCE, FakeEvolution, envelope
from tests.fakes.images import pattern_base64
from tests.fakes.server import Answer, Recorded, Reply

CONNECT_PATH = re.compile(r"^/instance/(?P<action>connect|connectionState|logout)/(?P<instance>[^/]+)$")
PAIRING_CODE = "WZYEH1YY"
OWNER = "573009990000"


class FakeEvolutionPairing(FakeEvolution):
    """``exists`` says whether the instance was created; ``link()`` plays the phone scanning."""

    def __init__(self) -> None:
        super().__init__()
        self.exists = False
        self.state = "close"
        self.qr_count = 0
        self.phone_number = ""
        self.created: list[dict[str, Any]] = []

    def link(self, profile: str = "Óptica Central") -> None:
        """The owner scanned the QR: the instance is open on the shop's number."""
        self.state = "open"
        self.profile = profile

    def answer(self, request: Recorded) -> Answer:
        if request.headers.get("apikey") != API_KEY:
            return envelope(401, "Unauthorized")
        if request.method == "POST" and request.path == "/instance/create":
            return self.create(request.json())
        if request.method == "GET" and request.path == "/instance/fetchInstances":
            return self.fetch(request.query.get("instanceName", [""])[0])
        found = CONNECT_PATH.match(request.path)
        if found:
            if found["instance"] != INSTANCE or not self.exists:
                return envelope(404, [f'The "{found["instance"]}" instance does not exist'])
            action = found["action"]
            if action == "connect" and request.method == "GET":
                return self.connect(request.query.get("number", [""])[0])
            if action == "logout" and request.method == "DELETE":
                return self.logout()
        return super().answer(request)

    def create(self, body: dict[str, Any]) -> Answer:
        name = str(body.get("instanceName") or "")
        if self.exists and name == INSTANCE:
            return envelope(403, [f'This name "{name}" is already in use.'])
        self.created.append(body)
        self.exists = name == INSTANCE
        self.state = "close"
        webhook = body.get("webhook") or {}
        return Reply(
            201,
            {
                "instance": {
                    "instanceName": name,
                    "instanceId": "2b8e3c0a-0000-4000-8000-000000000000",
                    "integration": body.get("integration"),
                    "webhookWaBusiness": None,
                    "accessTokenWaBusiness": "",
                    "status": self.state,
                },
                "hash": "6F3E0A9C-0000-4000-8000-000000000000",
                "webhook": {
                    "webhookUrl": webhook.get("url"),
                    "webhookHeaders": webhook.get("headers"),
                    "webhookByEvents": webhook.get("byEvents"),
                    "webhookBase64": webhook.get("base64"),
                },
                "websocket": {},
                "rabbitmq": {},
                "nats": {},
                "sqs": {},
                "settings": {
                    "rejectCall": False,
                    "msgCall": "",
                    "groupsIgnore": False,
                    "alwaysOnline": False,
                    "readMessages": False,
                    "readStatus": False,
                    "syncFullHistory": False,
                    "wavoipToken": "",
                },
            },
        )

    def qr_code(self) -> dict[str, Any]:
        return {
            "pairingCode": PAIRING_CODE if self.phone_number else None,
            "code": f"2@fake-qr-{self.qr_count},goteo-tests",
            "base64": "data:image/png;base64," + pattern_base64(self.qr_count),
            "count": self.qr_count,
        }

    def connect(self, number: str) -> Answer:
        if self.state == "open":
            return Reply(200, {"instance": {"instanceName": INSTANCE, "state": "open"}})
        if self.state == "connecting":
            return Reply(200, self.qr_code())
        if self.state != "close":  # any other state: the QR wrapped with the instance
            return Reply(
                200, {"instance": {"instanceName": INSTANCE, "status": self.state}, "qrcode": self.qr_code()}
            )
        # close: a new connection, with a pairing code when a number was given
        self.state = "connecting"
        self.phone_number = number
        self.qr_count += 1
        return Reply(200, self.qr_code())

    def logout(self) -> Answer:
        if self.state == "close":
            return envelope(400, [f'The "{INSTANCE}" instance is not connected'])
        self.state = "close"
        self.phone_number = ""
        return Reply(
            200, {"status": "SUCCESS", "error": False, "response": {"message": "Instance logged out"}}
        )

    def fetch(self, name: str) -> Answer:
        if name and (name != INSTANCE or not self.exists):
            return envelope(404, [f'Instance "{name}" not found'])
        linked = self.state == "open"
        return Reply(
            200,
            [
                {
                    "id": "clz0000000000000000000000",
                    "name": INSTANCE,
                    "connectionStatus": self.state,
                    "ownerJid": f"{OWNER}@s.whatsapp.net" if linked else None,
                    "profileName": getattr(self, "profile", None) if linked else None,
                    "profilePicUrl": None,
                    "integration": "WHATSAPP-BAILEYS",
                    "number": None,
                    "businessId": None,
                    "token": "6F3E0A9C-0000-4000-8000-000000000000",
                    "clientName": "evolution_exchange",
                    "disconnectionReasonCode": None,
                    "disconnectionObject": None,
                    "disconnectionAt": None,
                    "createdAt": "2026-01-02T15:00:00.000Z",
                    "updatedAt": "2026-01-02T15:00:00.000Z",
                    "Chatwoot": None,
                    "Proxy": None,
                    "Rabbitmq": None,
                    "Nats": None,
                    "Sqs": None,
                    "Websocket": None,
                    "Setting": None,
                    "_count": {"Message": 0, "Contact": 0, "Chat": 0},
                }
            ],
        )
