"""The file transport: appends one JSON line per message to an outbox file."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from goteo.transports.base import ConnectionStatus, OutgoingMedia, OutgoingMessage, SendError, Transport


def default_outbox() -> Path:
    from goteo.conf import data_dir, env_str

    raw = env_str("WHATSAPP_FILE_PATH")
    return Path(raw).expanduser() if raw else data_dir() / "outbox.jsonl"


def media_record(media: OutgoingMedia) -> dict[str, Any]:
    """The ``media`` object of a line: what the program reading the outbox needs to send it."""
    return {
        "kind": media.kind,
        "mime": media.mime,
        "file_name": media.file_name,
        "size": media.size,
        "path": media.path,
        "url": media.url,
    }


class FileTransport(Transport):
    """Writes ``{"to", "text", "id", "at"}`` lines to WHATSAPP_FILE_PATH (outbox.jsonl), and
    a ``media`` object when the campaign has a file (the text is then its caption)."""

    name = "file"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        self.path = Path(self.config.get("path") or default_outbox())

    def send(self, message: OutgoingMessage) -> str:
        provider_id = f"file-{uuid.uuid4().hex[:12]}"
        record: dict[str, Any] = {
            "id": provider_id,
            "message_id": message.message_id,
            "to": message.to,
            "text": message.text,
            "at": datetime.now(UTC).isoformat(),
        }
        if message.media is not None:
            record["media"] = media_record(message.media)
        line = json.dumps(record, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
                outbox.flush()
                os.fsync(outbox.fileno())
        except OSError as exc:
            raise SendError(
                SendError.DISCONNECTED,
                gettext("no se puede escribir %(path)s: %(error)s") % {"path": self.path, "error": exc},
            ) from exc
        return provider_id

    def delivered_text(self) -> str:
        # Another program picks the message up from the file; goteo cannot see WhatsApp.
        return gettext("entregado al archivo %(path)s") % {"path": self.path}

    def check_connection(self) -> ConnectionStatus:
        folder = self.path.parent
        if folder.exists() and not os.access(folder, os.W_OK):
            return ConnectionStatus(
                False, gettext("la carpeta %(folder)s no admite escritura") % {"folder": folder}
            )
        return ConnectionStatus(True, gettext("escribe en %(path)s") % {"path": self.path})
