"""A campaign's picture, PDF or video: checked, stored, addressed and handed to transports.

``attach_media`` checks a file against the campaign's provider and stores it under an
unguessable name; ``media_for`` gives the transports what they send; ``public_url`` is
the address goteo serves it at without sign-in (Twilio fetches it from there). The Cloud
API's uploaded copies are remembered by ``StoredMediaIds``.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import IO, TYPE_CHECKING

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext

from goteo.conf import env_str
from goteo.media_limits import MediaRejected, media_type, size_problem
from goteo.transports.base import OutgoingMedia
from goteo.transports.config import ConfigurationError

if TYPE_CHECKING:
    from goteo.models import Campaign, CampaignMedia

HEAD_BYTES = 32  # enough for every signature goteo reads (goteo.media_limits.sniff)
PUBLIC_NAME_LIMIT = 80
# Providers that fetch the file from goteo's public address and cannot take it otherwise.
NEEDS_PUBLIC_URL = frozenset({"twilio"})


def check_media(backend: str, file_name: str, head: bytes, size: int) -> tuple[str, str, str]:
    """The file's ``(mime, kind, extension)`` if ``backend`` can send it.

    Raises ``MediaRejected`` with the Spanish reason: a type other than JPEG, PNG, PDF or
    MP4 (read from the content), or a size over the provider's limit for that kind.
    """
    found = media_type(file_name, head)
    problem = size_problem(backend, found.kind, size)
    if problem:
        raise MediaRejected(problem)
    return found.mime, found.kind, found.extension


def file_size(stream: IO[bytes]) -> int:
    """The size of an open file, leaving it at its start."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def attach_media(campaign: Campaign, stream: IO[bytes], file_name: str) -> CampaignMedia:
    """Check ``stream`` against the campaign's provider and store it as the campaign's file.

    Replaces a previous file. Raises ``MediaRejected`` (nothing stored) when the file
    cannot be sent; the message names the limit.
    """
    from goteo.models import CampaignMedia

    size = file_size(stream)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    mime, kind, extension = check_media(campaign.sender.effective_backend, file_name, head, size)
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        old = CampaignMedia.objects.filter(campaign=campaign).first()
        if old is not None:
            old.file.delete(save=False)
            old.delete()
        media = CampaignMedia(
            campaign=campaign,
            token=token,
            original_name=file_name[-255:],
            mime=mime,
            size=size,
            kind=kind,
        )
        # The stored name is the token alone: nothing of the shop's file name reaches the disk.
        media.file.save(token + extension, File(stream), save=False)
        media.save()
    return media


def campaign_media(campaign: Campaign) -> CampaignMedia | None:
    """The campaign's file, or None (no query when the campaign was read with its file)."""
    from goteo.models import CampaignMedia

    try:
        return campaign.media
    except CampaignMedia.DoesNotExist:
        return None


def public_name(media: CampaignMedia) -> str:
    """The file name in its public address: the shop's name, made safe for a URL."""
    try:
        name = get_valid_filename(media.original_name)
    except SuspiciousFileOperation:  # a name that reduces to nothing ("..")
        name = ""
    return (name or f"archivo{media.file.name[-4:]}")[-PUBLIC_NAME_LIMIT:]


def public_base() -> str:
    """GOTEO_PUBLIC_URL without its trailing slash, or ""."""
    return env_str("GOTEO_PUBLIC_URL").rstrip("/")


def public_url(media: CampaignMedia, base: str = "") -> str:
    """The unguessable address goteo serves the file at, without sign-in.

    Raises ``ConfigurationError`` when GOTEO_PUBLIC_URL is not set: without it nobody
    outside this machine can reach the file.
    """
    base = (base or public_base()).rstrip("/")
    if not base:
        raise ConfigurationError(
            gettext(
                "Para enviar «%(name)s» el proveedor tiene que descargarlo de goteo: defina "
                "GOTEO_PUBLIC_URL con la dirección pública de goteo (p. ej. https://promos.mioptica.co)."
            )
            % {"name": media.original_name}
        )
    return base + reverse("goteo:public_media", args=[media.token, public_name(media)])


def media_for(campaign: Campaign) -> OutgoingMedia | None:
    """What the transports send with each of the campaign's messages, or None."""
    media = campaign_media(campaign)
    if media is None:
        return None
    return outgoing(media)


def outgoing(media: CampaignMedia) -> OutgoingMedia:
    """``media`` as a transport sends it: its local path and, when set, its public address."""
    try:
        path = media.file.path
    except NotImplementedError:  # a remote storage: read through the storage instead
        path = ""
    return OutgoingMedia(
        key=media.token,
        kind=media.kind,
        mime=media.mime,
        file_name=media.original_name,
        size=media.size,
        campaign_id=media.campaign_id,
        path=path,
        url=public_url(media) if public_base() else "",
    )


def stored_bytes(key: str) -> bytes:
    """The bytes of the file whose token is ``key`` (for storages without local paths)."""
    from goteo.models import CampaignMedia

    media = CampaignMedia.objects.get(token=key)
    with media.file.open("rb") as stored:
        return bytes(stored.read())


def launch_problem(campaign: Campaign) -> str:
    """Why the campaign cannot start because of its file, in Spanish, or "".

    The file no longer fits the campaign's provider (the number changed since it was
    attached), or the provider must download it and GOTEO_PUBLIC_URL is not set.
    """
    media = campaign_media(campaign)
    if media is None:
        return ""
    backend = campaign.sender.effective_backend
    problem = size_problem(backend, media.kind, media.size)
    if problem:
        return problem
    if backend in NEEDS_PUBLIC_URL and not public_base():
        try:
            public_url(media)
        except ConfigurationError as exc:
            return str(exc)
    return ""


class StoredMediaIds:
    """The Cloud API's ids for uploaded files, kept in the database (``UploadedMedia``)."""

    def get(self, key: str, account: str, now: datetime) -> str:
        """The id of file ``key`` on ``account`` while the provider still keeps it, else ""."""
        from goteo.models import UploadedMedia

        found = UploadedMedia.objects.filter(media__token=key, account=account).first()
        return found.provider_id if found is not None and found.fresh(now) else ""

    def put(self, key: str, account: str, media_id: str, now: datetime) -> None:
        """Remember ``media_id`` as the file's id on ``account`` from ``now``."""
        from goteo.models import CampaignMedia, UploadedMedia

        media = CampaignMedia.objects.filter(token=key).first()
        if media is None:  # the campaign's file was replaced meanwhile
            return
        values = {"provider_id": media_id, "uploaded_at": now}
        try:
            UploadedMedia.objects.update_or_create(media=media, account=account, defaults=values)
        except IntegrityError:  # another thread stored its upload first; either id works
            UploadedMedia.objects.filter(media=media, account=account).update(**values)

    def forget(self, key: str, account: str) -> None:
        """Drop the file's id on ``account``: the provider said it is no longer valid."""
        from goteo.models import UploadedMedia

        UploadedMedia.objects.filter(media__token=key, account=account).delete()
