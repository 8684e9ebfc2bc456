"""A fake Meta WhatsApp Cloud API: ``/<version>/<phone_number_id>/messages`` and the number."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from tests.fakes.server import HANG, Answer, FakeServer, Recorded, Reply

TOKEN = "EAAtest-token-123"
PHONE_NUMBER_ID = "106540352242922"
MESSAGES_PATH = re.compile(r"^/v\d+\.\d+/(?P<pnid>[^/]+)/messages$")
MEDIA_PATH = re.compile(r"^/v\d+\.\d+/(?P<pnid>[^/]+)/media$")
MEDIA_KINDS = ("image", "document", "video")
# Meta's "Supported media types" (developers.facebook.com/docs/whatsapp/cloud-api/reference/
# media): what an upload may be, and up to how many bytes.
UPLOAD_LIMITS = {
    "image/jpeg": 5 * 1024 * 1024,
    "image/png": 5 * 1024 * 1024,
    "application/pdf": 100 * 1024 * 1024,
    "video/mp4": 16 * 1024 * 1024,
}
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
        # Uploaded files by media id: {"mime", "file_name", "data", "form"}. A test empties it
        # to play Meta forgetting an id (30 days passed), answered as ``unknown_media`` says.
        self.uploads: dict[str, dict[str, Any]] = {}
        self.unknown_media = graph_error(100, "(#100) Invalid parameter: the media id is not valid")
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
        uploading = MEDIA_PATH.match(request.path)
        if request.method == "POST" and uploading:
            return self.upload(request, uploading["pnid"])
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
        if body.get("type") not in ("text", "template", *MEDIA_KINDS):
            return graph_error(131051, "Unsupported message type")
        media_id = self.media_id_in(body)
        if media_id is not None and media_id not in self.uploads:
            return self.unknown_media
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

    def media_id_in(self, body: dict[str, Any]) -> str | None:
        """The media id a send refers to: its image/document/video, or its template header."""
        kind = body.get("type")
        if kind in MEDIA_KINDS:
            return str((body.get(kind) or {}).get("id") or "")
        for component in (body.get("template") or {}).get("components") or []:
            if component.get("type") == "header":
                for parameter in component.get("parameters") or []:
                    if parameter.get("type") in MEDIA_KINDS:
                        return str((parameter.get(parameter["type"]) or {}).get("id") or "")
        return None

    def upload(self, request: Recorded, pnid: str) -> Answer:
        """``POST /<version>/<phone_number_id>/media``, multipart: messaging_product, type,
        file; answers ``{"id": "<MEDIA_ID>"}`` (the media reference's example answer)."""
        if pnid != PHONE_NUMBER_ID:
            return graph_error(100, "Object does not exist")
        parts = multipart(request)
        if parts.get("messaging_product", {}).get("data") != b"whatsapp" or "file" not in parts:
            return graph_error(100, "(#100) The parameter messaging_product is required.")
        file = parts["file"]
        mime = file["content_type"]
        if mime not in UPLOAD_LIMITS:
            return graph_error(131053, f"Media upload error: unsupported type {mime}")
        if len(file["data"]) > UPLOAD_LIMITS[mime]:
            return graph_error(131053, "Media upload error: the file is too large")
        media_id = str(secrets.randbelow(10**15) + 10**15)
        self.uploads[media_id] = {
            "mime": mime,
            "file_name": file["filename"],
            "data": file["data"],
            "form": {name: part["data"].decode() for name, part in parts.items() if name != "file"},
        }
        return Reply(200, {"id": media_id})

    def describe_number(self, request: Recorded) -> Answer:
        wanted = ",".join(request.query.get("fields", [""])).split(",")
        found = {name: self.number[name] for name in wanted if name in self.number}
        return Reply(200, {"id": PHONE_NUMBER_ID} | found)


def multipart(request: Recorded) -> dict[str, dict[str, Any]]:
    """The parts of a multipart/form-data body by name: {"data", "filename", "content_type"}."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    parts: dict[str, dict[str, Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[str(name)] = {
            "data": part.get_payload(decode=True) or b"",
            "filename": part.get_filename() or "",
            "content_type": part.get_content_type(),
        }
    return parts
