"""Small files of each type goteo sends, with the signatures their formats begin with.

JPEG starts with an SOI marker FF D8 FF (ITU T.81); PNG with its 8-byte signature
(RFC 2083); PDF with ``%PDF-`` (ISO 32000); MP4 with an ``ftyp`` box (ISO/IEC 14496-12),
here brand ``isom``; QuickTime's ``ftyp`` carries brand ``qt  ``.
"""

from __future__ import annotations

from tests.fakes.images import pattern_png

MB = 1024 * 1024


def padded(head: bytes, size: int) -> bytes:
    return head + b"\0" * max(0, size - len(head))


def jpeg(size: int = 2048) -> bytes:
    return padded(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", size)


def png() -> bytes:
    return pattern_png()


def pdf(size: int = 2048) -> bytes:
    return padded(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", size)


def mp4(size: int = 4096) -> bytes:
    return padded(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", size)


def quicktime(size: int = 4096) -> bytes:
    return padded(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", size)
