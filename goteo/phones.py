"""Phone numbers: normalizing to E.164 and masking for logs."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers


class InvalidPhone(ValueError):
    """A phone number that cannot be a WhatsApp number; the message says why.

    ``detail`` says it without naming the field, for reports that name it already.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclass(frozen=True)
class Phone:
    """A valid number in E.164 and whether it is a fixed line (WhatsApp does not reach those)."""

    e164: str
    landline: bool


def read_phone(raw: str, region: str | None = None) -> Phone:
    """``"300 978 7566"`` -> ``Phone("+573009787566", landline=False)`` (region CO by default).

    A number phonenumbers calls FIXED_LINE is a landline; FIXED_LINE_OR_MOBILE (countries
    whose plans do not tell them apart) counts as mobile, so nobody is held back on a guess.
    Raises ``InvalidPhone`` for empty, unparsable or impossible numbers.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("teléfono vacío", "está vacío")
    if region is None:
        from django.conf import settings

        region = getattr(settings, "GOTEO_PHONE_REGION", "CO")
    if text.startswith("00"):
        text = "+" + text[2:]
    shown = shorten(raw)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"teléfono ilegible: {shown!r}", f"{shown!r} no se entiende como número") from None
    # number_type is UNKNOWN exactly when is_valid_number is false (both match the number
    # against its region's patterns); asking once keeps a 100,000-row import fast.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise InvalidPhone(f"teléfono inválido: {shown!r}", f"{shown!r} no es un número válido")
    landline = kind == phonenumbers.PhoneNumberType.FIXED_LINE
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), landline)


def normalize_phone(raw: str, region: str | None = None) -> str:
    """``"300 978 7566"`` -> ``"+573009787566"``; see ``read_phone``."""
    return read_phone(raw, region).e164


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for quoting input back."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask_phone(phone: str) -> str:
    """Hide the middle of a number for logs: ``+573009787566`` -> ``+57300****566``."""
    if not phone:
        return ""
    digits = phone.lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits) if phone.startswith("+") else "*" * len(digits)
    shown = digits[:5] + "*" * (len(digits) - 8) + digits[-3:]
    return ("+" if phone.startswith("+") else "") + shown
