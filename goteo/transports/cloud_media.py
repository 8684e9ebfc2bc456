"""The Cloud API's media: a campaign's file uploaded once per number, then sent by its id.

``POST /<version>/<phone_number_id>/media`` (multipart: ``messaging_product=whatsapp``,
``type`` and ``file``) answers ``{"id": "<MEDIA_ID>"}``; a message then carries
``{"type": "image", "image": {"id": ..., "caption": ...}}`` (a document also its
``filename``), or an approved template a header parameter of that type. Meta keeps an
uploaded file 30 days (developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx
from django.utils.translation import gettext

from goteo.clock import Clock, SystemClock
from goteo.media_limits import size_problem
from goteo.transports.base import OutgoingMedia, SendError
from goteo.transports.http import json_body, request, snippet

# Meta's error-code table (developers.facebook.com/docs/whatsapp/cloud-api/support/
# error-codes): 131053 "Media upload error" (the media could not be used; the details say
# why), 100 "Invalid parameter" and 131009 "Parameter value is not valid", which name the
# media id when it is unknown or expired. A send answered so went nowhere: goteo uploads
# the file again and resends once.
MEDIA_ERROR = "131053"
PARAMETER_CODES = frozenset({"100", "131009"})
# At upload, these mean Meta refuses the file itself: the campaign pauses with the reason.
REFUSED_UPLOAD_CODES = frozenset({100, 131009, 131053, 131052})


class MediaIds(Protocol):
    """Where uploaded ids are kept between runs (goteo.media.StoredMediaIds)."""

    def get(self, key: str, account: str, now: datetime) -> str: ...

    def put(self, key: str, account: str, media_id: str, now: datetime) -> None: ...

    def forget(self, key: str, account: str) -> None: ...


class Uploads:
    """One number's uploaded files: each uploaded once, reused while Meta keeps it."""

    def __init__(self, client: httpx.Client, path: str, account: str) -> None:
        self.client = client
        self.path = path  # /<version>/<phone_number_id>/media
        self.account = account
        self.clock: Clock = SystemClock()
        self.ids: MediaIds | None = None  # goteo.media.StoredMediaIds unless a test sets one

    def stored(self) -> MediaIds:
        if self.ids is None:
            from goteo.media import StoredMediaIds

            self.ids = StoredMediaIds()
        return self.ids

    def media_id(self, media: OutgoingMedia) -> str:
        """The file's id on this number: the kept one while Meta keeps it, else a new upload."""
        ids = self.stored()
        now = self.clock.now()
        found = ids.get(media.key, self.account, now)
        if found:
            return found
        media_id = upload(self.client, self.path, media)
        ids.put(media.key, self.account, media_id, now)
        return media_id

    def forget(self, media: OutgoingMedia) -> None:
        """Drop the kept id: Meta said it no longer knows it."""
        self.stored().forget(media.key, self.account)


def stale_media(error: SendError) -> bool:
    """Whether a refused send blames its media id (unknown, expired or unusable)."""
    if error.code == MEDIA_ERROR:
        return True
    return error.code in PARAMETER_CODES and "media" in error.reason.lower()


def refused_file(media: OutgoingMedia, detail: str) -> SendError:
    """The campaign's file is not sendable: nothing went out, the campaign pauses."""
    return SendError(
        SendError.PERMANENT,
        gettext("Meta no acepta el archivo «%(name)s» de la campaña: %(detail)s")
        % {"name": media.file_name, "detail": detail},
        code="media",
        campaign_wide=True,
    )


def check_size(media: OutgoingMedia) -> None:
    """Refuse, for the whole campaign, a file over the Cloud API's limit for its kind."""
    problem = size_problem("cloud", media.kind, media.size)
    if problem:
        raise SendError(SendError.PERMANENT, problem, code="media-size", campaign_wide=True)


def upload(client: httpx.Client, path: str, media: OutgoingMedia) -> str:
    """Upload ``media`` to ``path`` (``/<version>/<phone_number_id>/media``); return its id.

    Nothing reaches a person here, so a failure that may have reached Meta is only a
    retry; a file Meta refuses is refused for the whole campaign.
    """
    from goteo.transports.cloud import classify_response, error_detail

    check_size(media)
    files = {"file": (media.file_name, media.read(), media.mime)}
    form = {"messaging_product": "whatsapp", "type": media.mime}
    try:
        response = request(client, "POST", path, data=form, files=files)
    except SendError as exc:
        raise not_sent(exc) from exc
    if response.status_code >= 500:
        raise SendError(
            SendError.RETRY,
            gettext("Meta no pudo recibir el archivo (HTTP %(status)s); se reintenta")
            % {"status": response.status_code},
            code=f"http{response.status_code}",
        )
    body = json_body(response)
    if response.status_code >= 300:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") in REFUSED_UPLOAD_CODES:
            raise refused_file(media, error_detail(error))
        raise not_sent(classify_response(response))
    media_id = body.get("id") if isinstance(body, dict) else None
    if not media_id:
        raise SendError(
            SendError.RETRY,
            gettext("Meta recibió el archivo pero no devolvió su id: %(body)s") % {"body": snippet(response)},
        )
    return str(media_id)


def not_sent(error: SendError) -> SendError:
    """An upload whose outcome is unknown sent nothing to anyone: it is retried."""
    if error.kind == SendError.UNKNOWN:
        return SendError(SendError.RETRY, error.reason, code=error.code)
    return error


def media_object(media: OutgoingMedia, media_id: str, caption: str = "") -> dict[str, Any]:
    """The ``image`` / ``document`` / ``video`` object of a message or template header."""
    found: dict[str, Any] = {"id": media_id}
    if caption:
        found["caption"] = caption
    if media.kind == "document":
        found["filename"] = media.file_name
    return found


def with_header(template: dict[str, Any], media: OutgoingMedia, media_id: str) -> dict[str, Any]:
    """An approved template's object with the file as its IMAGE, DOCUMENT or VIDEO header."""
    header = {
        "type": "header",
        "parameters": [{"type": media.kind, media.kind: media_object(media, media_id)}],
    }
    return template | {"components": [header, *template.get("components", [])]}
