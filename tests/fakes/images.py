"""Small real PNG images for the fakes' QR codes: a browser must be able to draw them."""

from __future__ import annotations

import base64
import struct
import zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pattern_png(seed: int = 1, modules: int = 25, scale: int = 4) -> bytes:
    """A black-and-white square like a QR code (not a readable one), as PNG bytes."""
    size = modules * scale
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            mx, my = x // scale, y // scale
            dark = (mx * 7 + my * 13 + seed) % 5 < 2 or mx in (0, modules - 1) or my in (0, modules - 1)
            row.append(0 if dark else 255)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def pattern_base64(seed: int = 1) -> str:
    return base64.b64encode(pattern_png(seed)).decode()
