"""A fake Meta WhatsApp Cloud API: ``/<version>/<phone_number_id>/messages`` and the number."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from typing import Any

from tests.fakes.server import HANG, Answer, FakeServer, Recorded, Reply

TOKEN = "EAAtest-token-123"
PHONE_NUMBER_ID = "106540352242922"
MESSAGES_PATH = re.compile(r"^/v\d+\.\d+/(?P<pnid>[^/]+)/messages$")
NUMBER_PATH = re.compile(r"^/v\d+\.\d+/(?P<pnid>[^/]+)$")
# The message is accepted (it will be delivered) but the answer never comes back.
ACCEPT_THEN_HANG = "accept-then-hang"


def graph_error(code: int, details: str = "detalle", status: int = 400) -> Reply:
    """A Graph API error body as Meta documents it."""
    return Reply(
        status,
        {
            "error": {
                "message": f"(#{code}) error",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details},
                "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
            }
        },
    )


class FakeCloudAPI(FakeServer):
    """Accepts template and text sends; ``by_phone`` scripts an answer for one recipient."""

    def __init__(self) -> None:
        super().__init__()
        self.by_phone: dict[str, Answer] = {}
        self.seen: Counter[str] = Counter()
        self.accepted: list[dict[str, Any]] = []  # {"to", "id", "body"}
        self.number: dict[str, Any] = {
            "display_phone_number": "15550783881",
            "verified_name": "Óptica Prueba",
            "status": "CONNECTED",
            "quality_rating": "GREEN",
            "name_status": "APPROVED",
            "whatsapp_business_manager_messaging_limit": "TIER_250",
            "throughput": {"level": "STANDARD"},
            "health_status": {
                "can_send_message": "AVAILABLE",
                "entities": [
                    {
                        "entity_type": "PHONE_NUMBER",
                        "id": PHONE_NUMBER_ID,
                        "can_send_message": "AVAILABLE",
                    }
                ],
            },
        }

    def config(self, **extra: Any) -> dict[str, Any]:
        """Settings for a ``CloudTransport`` pointed at this server."""
        return {
            "token": TOKEN,
            "phone_number_id": PHONE_NUMBER_ID,
            "api_version": "v25.0",
            "base_url": self.url,
        } | extra

    def answer(self, request: Recorded) -> Answer:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return graph_error(190, "Error validating access token", status=401)
        sending = MESSAGES_PATH.match(request.path)
        if request.method == "POST" and sending:
            return self.send(request, sending["pnid"])
        number = NUMBER_PATH.match(request.path)
        if request.method == "GET" and number:
            if number["pnid"] != PHONE_NUMBER_ID:
                return graph_error(100, "Object does not exist")
            return self.describe_number(request)
        return graph_error(100, "Unsupported request")

    def send(self, request: Recorded, pnid: str) -> Answer:
        if pnid != PHONE_NUMBER_ID:
            return graph_error(100, "Object does not exist")
        if request.headers.get("content-type") != "application/json":
            return graph_error(100, "Content-Type must be application/json")
        body = request.json()
        to = body.get("to") or body.get("recipient") or ""
        if body.get("messaging_product") != "whatsapp" or not to:
            return graph_error(131008, "Required parameter is missing")
        if body.get("type") not in ("text", "template"):
            return graph_error(131051, "Unsupported message type")
        self.seen[to] += 1
        scripted = self.by_phone.get(to)
        if scripted is not None and scripted != ACCEPT_THEN_HANG:
            return scripted
        wamid = "wamid." + secrets.token_hex(16).upper()
        self.accepted.append({"to": to, "id": wamid, "body": body})
        if scripted == ACCEPT_THEN_HANG:
            return HANG
        return Reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": re.sub(r"\D", "", to)}],
                "messages": [{"id": wamid}],
            },
        )

    def describe_number(self, request: Recorded) -> Answer:
        wanted = ",".join(request.query.get("fields", [""])).split(",")
        found = {name: self.number[name] for name in wanted if name in self.number}
        return Reply(200, {"id": PHONE_NUMBER_ID} | found)
