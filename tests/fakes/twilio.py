"""A fake Twilio REST API: the Messages resource (form-encoded, Basic auth) and the Account."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.server import Answer, FakeServer, Recorded, Reply

ACCOUNT_SID = "ACa66dd367e3772ec8696f298dd7e528a5"
AUTH_TOKEN = "twilio-auth-token-for-tests"
FROM = "whatsapp:+15149002890"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")
ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)\.json$")


def twilio_error(code: int, message: str = "detalle", status: int = 400) -> Reply:
    return Reply(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


class FakeTwilio(FakeServer):
    """``by_to`` scripts an answer for one ``To`` address (``whatsapp:+...``)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_to: dict[str, Answer] = {}
        self.account_status = "active"
        self.created: list[dict[str, str]] = []

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from": FROM.removeprefix("whatsapp:"),
            "base_url": self.url,
        } | extra

    def authorized(self, request: Recorded) -> bool:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def answer(self, request: Recorded) -> Answer:
        if not self.authorized(request):
            return twilio_error(20003, "Authenticate", status=401)
        creating = MESSAGES_PATH.match(request.path)
        if request.method == "POST" and creating and creating["sid"] == ACCOUNT_SID:
            return self.create(request)
        account = ACCOUNT_PATH.match(request.path)
        if request.method == "GET" and account and account["sid"] == ACCOUNT_SID:
            return Reply(200, {"sid": ACCOUNT_SID, "status": self.account_status})
        return twilio_error(20404, "The requested resource was not found", status=404)

    def create(self, request: Recorded) -> Answer:
        form = request.form()
        to = form.get("To", "")
        if not to.startswith("whatsapp:+"):
            return twilio_error(21211, f"The 'To' number {to} is not a valid phone number.")
        media_urls = parse_qs(request.body.decode()).get("MediaUrl", [])
        if media_urls and not all(u.startswith(("http://", "https://")) for u in media_urls):
            return twilio_error(21620, "Invalid media URL(s)")
        if not (form.get("Body") or form.get("ContentSid") or media_urls):
            return twilio_error(21619, "A text message body or media urls must be specified.")
        scripted = self.by_to.get(to)
        if scripted is not None:
            return scripted
        sid = "SM" + secrets.token_hex(16)
        self.created.append(form | {"sid": sid})
        return Reply(
            201,
            {
                "sid": sid,
                "account_sid": ACCOUNT_SID,
                "messaging_service_sid": None,
                "from": form.get("From"),
                "to": to,
                "body": form.get("Body", ""),
                "status": "queued",
                "direction": "outbound-api",
                "num_segments": "1",
                "num_media": str(len(media_urls)),
                "api_version": "2010-04-01",
                "price": None,
                "price_unit": "USD",
                "error_code": None,
                "error_message": None,
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            },
        )
