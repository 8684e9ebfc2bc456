"""Per-person promotion codes: NAVIDAD2026-7K3F9QX2, one for each person a campaign reaches.

The part after the dash is 8 characters from a 32-letter alphabet without 0, O, 1 and I, so
nobody misreads it at the counter: 32**8 (about 1.1 million million) possible codes. With
100,000 codes out, a made-up code hits one of them once in about 11 million tries, and every
try has to be typed at the counter. The characters come from ``secrets``.

Codes are drawn a batch at a time (one call to the operating system's random source and one
translation per batch), since a launch draws one per person.
"""

from __future__ import annotations

import base64
import random
import re
import secrets

# 32 characters: digits 2-9 and the letters but I and O; each character carries 5 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
CODE_MAX_LENGTH = 40  # Message.code
SEPARATOR = "-"
# base64's base-32 alphabet, character for character onto ours.
_FROM_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())
_SPACES = re.compile(r"\s+")


def code_prefix(promotion_code: str) -> str:
    """The promotion's code as the start of each person's code (cut to fit Message.code)."""
    return promotion_code.strip().upper()[: CODE_MAX_LENGTH - LENGTH - len(SEPARATOR)]


def draw_suffixes(count: int) -> list[str]:
    """``count`` random suffixes of LENGTH characters from ALPHABET (5 random bytes each)."""
    if count <= 0:
        return []
    text = base64.b32encode(secrets.token_bytes(5 * count)).translate(_FROM_BASE32).decode()
    return [text[i : i + LENGTH] for i in range(0, LENGTH * count, LENGTH)]


def draw_codes(promotion_code: str, count: int, seen: set[str]) -> list[str]:
    """``count`` new codes for the promotion, none of them in ``seen``; they are added to it."""
    prefix = code_prefix(promotion_code) + SEPARATOR
    codes: list[str] = []
    while len(codes) < count:
        for suffix in draw_suffixes(count - len(codes)):
            code = prefix + suffix
            if code not in seen:
                seen.add(code)
                codes.append(code)
    return codes


def example_code(promotion_code: str, key: str = "") -> str:
    """A code that looks like the ones people will get, for a preview (never stored or valid).

    The same ``key`` (a name) gives the same example, so a preview does not change as one types.
    """
    rng = random.Random(f"{promotion_code}:{key}")  # only for show: not secret
    suffix = "".join(rng.choice(ALPHABET) for _ in range(LENGTH))
    return code_prefix(promotion_code or "CODIGO") + SEPARATOR + suffix


def compact_code(typed: str) -> str:
    """What the staff typed in capitals and without spaces, as it is shown back to them."""
    return _SPACES.sub("", typed).upper()


def normalize_code(typed: str) -> str:
    """What the staff typed, as codes are stored: capitals, no spaces, a dash before the suffix.

    ``navidad2026 7k3f 9qx2`` and ``NAVIDAD20267K3F9QX2`` both read ``NAVIDAD2026-7K3F9QX2``.
    The promotion's own dashes are kept, so a promotion code may have them too.
    """
    compact = compact_code(typed)
    if len(compact) <= LENGTH or compact[-LENGTH - 1] == SEPARATOR:
        return compact
    return compact[:-LENGTH] + SEPARATOR + compact[-LENGTH:]
