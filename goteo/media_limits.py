"""What each WhatsApp provider accepts as a campaign's picture, PDF or video.

Pure functions: the file's type read from its first bytes (never from its name alone), and
each provider's size limit per kind, with the Spanish sentence that names the limit. The
limits come from the providers' own documentation or source, cited beside each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.utils.translation import get_language, gettext, gettext_noop

IMAGE = "image"
DOCUMENT = "document"
VIDEO = "video"
KINDS = (IMAGE, DOCUMENT, VIDEO)
MB = 1024 * 1024

# The types goteo sends: every provider below takes them (Meta's "Supported media types",
# developers.facebook.com/docs/whatsapp/cloud-api/reference/media; Twilio's "Guidance on
# WhatsApp media messages"; WhatsApp Web through Baileys or WAHA takes any of them).
TYPES = {
    "image/jpeg": (IMAGE, ".jpg"),
    "image/png": (IMAGE, ".png"),
    "application/pdf": (DOCUMENT, ".pdf"),
    "video/mp4": (VIDEO, ".mp4"),
}
EXTENSIONS = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
}
# Words for a type in the shop's sentences, marked for translation here.
TYPE_WORDS = {
    "image/jpeg": gettext_noop("una imagen JPEG"),
    "image/png": gettext_noop("una imagen PNG"),
    "application/pdf": gettext_noop("un documento PDF"),
    "video/mp4": gettext_noop("un video MP4"),
}
KIND_WORDS = {
    IMAGE: (gettext_noop("La imagen"), gettext_noop("por imagen")),
    DOCUMENT: (gettext_noop("El documento"), gettext_noop("por documento")),
    VIDEO: (gettext_noop("El video"), gettext_noop("por video")),
}

# Size limits per provider and kind: (bytes, who sets the limit).
WHATSAPP = "WhatsApp"
# Meta's Cloud API, "Supported media types" (developers.facebook.com/docs/whatsapp/
# cloud-api/reference/media): image/jpeg and image/png 5 MB, video/mp4 16 MB,
# application/pdf 100 MB.
CLOUD_LIMITS = {IMAGE: (5 * MB, WHATSAPP), VIDEO: (16 * MB, WHATSAPP), DOCUMENT: (100 * MB, WHATSAPP)}
LIMITS: dict[str, dict[str, tuple[int, str]]] = {
    "cloud": CLOUD_LIMITS,
    # Twilio, "Guidance on WhatsApp Media Messages" (twilio.com/docs/whatsapp/guidance-
    # whatsapp-media-messages): a WhatsApp message up to 16 MB, images only up to 5 MB;
    # error 11751 "Media exceeds messaging provider size limit" says the same 16 MB.
    "twilio": {IMAGE: (5 * MB, "Twilio"), VIDEO: (16 * MB, "Twilio"), DOCUMENT: (16 * MB, "Twilio")},
    # Evolution API sends through WhatsApp Web (Baileys' prepareWAMessageMedia) and sets no
    # size limit of its own beyond a 136 MB JSON body (src/main.ts, express json limit), so
    # WhatsApp's own limits for business media apply; WhatsApp Web also caps a video sent
    # inline (not as a document) at 16 MB.
    "evolution": CLOUD_LIMITS,
    # WAHA (devlikeapro/waha, src/main.ts) reads JSON bodies up to 50 MB; a file goes as
    # base64 (4/3 of its size) when goteo has no public URL, so a document stops at 35 MB.
    "waha": {IMAGE: (5 * MB, WHATSAPP), VIDEO: (16 * MB, WHATSAPP), DOCUMENT: (35 * MB, "WAHA")},
}
# The console, the file and the memory transports: what the Cloud API would take, so a
# simulation refuses what a real send would refuse.
DEFAULT_LIMITS = CLOUD_LIMITS


class MediaRejected(ValueError):
    """A file goteo cannot send: the message says why, in the shop's words."""


@dataclass(frozen=True)
class MediaType:
    """A file's type as read from its content."""

    mime: str
    kind: str
    extension: str


def sniff(head: bytes) -> str:
    """The MIME type the first bytes of a file show, or "" when it is none goteo sends.

    JPEG starts FF D8 FF; PNG with its 8-byte signature; PDF with ``%PDF-``; MP4 (ISO base
    media) with an ``ftyp`` box at offset 4 whose brand is not QuickTime's ``qt`` or 3GPP's.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and not head[8:12].startswith((b"qt", b"3g")):
        return "video/mp4"
    return ""


def media_type(file_name: str, head: bytes) -> MediaType:
    """The type of a file from its content, checked against its name's extension.

    Raises ``MediaRejected`` when the content is none of JPEG, PNG, PDF or MP4, or when the
    name says one type and the content another (a photo renamed ``.pdf``).
    """
    mime = sniff(head)
    extension = PurePath(file_name).suffix.lower()
    if not mime:
        raise MediaRejected(
            gettext(
                "«%(name)s» no es una imagen JPEG o PNG, un documento PDF ni un video MP4; "
                "WhatsApp solo recibe esos tipos en una campaña."
            )
            % {"name": file_name}
        )
    named = EXTENSIONS.get(extension)
    if extension and named != mime and not (named and TYPES[named][0] == IMAGE == TYPES[mime][0]):
        raise MediaRejected(
            gettext("«%(name)s» se llama %(extension)s pero su contenido es %(content)s.")
            % {"name": file_name, "extension": extension, "content": gettext(TYPE_WORDS[mime])}
        )
    kind, ext = TYPES[mime]
    return MediaType(mime, kind, ext)


def limit_for(backend: str, kind: str) -> tuple[int, str]:
    """The largest file ``backend`` takes of ``kind``, in bytes, and who sets that limit."""
    return LIMITS.get(backend, DEFAULT_LIMITS)[kind]


def size_problem(backend: str, kind: str, size: int) -> str:
    """The Spanish sentence refusing a file of ``size`` bytes, or "" when it fits.

    «La imagen pesa 7,2 MB; WhatsApp acepta hasta 5 MB por imagen.»
    """
    limit, who = limit_for(backend, kind)
    if size <= limit:
        return ""
    subject, per = KIND_WORDS[kind]
    return gettext("%(subject)s pesa %(size)s; %(who)s acepta hasta %(limit)s %(per)s.") % {
        "subject": gettext(subject),
        "size": megabytes(size),
        "who": who,
        "limit": megabytes(limit),
        "per": gettext(per),
    }


def megabytes(size: int) -> str:
    """7549747 -> "7,2 MB"; 5242880 -> "5 MB" (a decimal comma in Spanish, a point in English)."""
    value = size / MB
    if value < 0.1:
        return f"{max(1, round(size / 1024))} KB"
    point = "." if (get_language() or "es").startswith("en") else ","
    text = f"{value:.1f}".replace(".", point).removesuffix(f"{point}0")
    return f"{text} MB"
