"""Phone numbers: normalizing to E.164 and masking for logs."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """A phone number that cannot be a WhatsApp number; the message says why."""


def normalize_phone(raw: str, region: str | None = None) -> str:
    """``"300 978 7566"`` -> ``"+573009787566"`` (region CO by default).

    Raises ``InvalidPhone`` for empty, unparsable or impossible numbers.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("teléfono vacío")
    if region is None:
        from django.conf import settings

        region = getattr(settings, "GOTEO_PHONE_REGION", "CO")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"teléfono ilegible: {raw!r}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"teléfono inválido: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """Hide the middle of a number for logs: ``+573009787566`` -> ``+57300****566``."""
    if not phone:
        return ""
    digits = phone.lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits) if phone.startswith("+") else "*" * len(digits)
    shown = digits[:5] + "*" * (len(digits) - 8) + digits[-3:]
    return ("+" if phone.startswith("+") else "") + shown
