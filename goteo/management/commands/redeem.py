"""``goteo redeem CODE`` or ``goteo redeem --phone PHONE --promotion CODE``: a customer used it."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.management.base import GoteoCommand
from goteo.redemptions import RedemptionRefused, find_by_code, find_by_phone

COUNTER = "mostrador"


def os_user() -> str:
    """Who is at the console: the OS user, or "mostrador" when it cannot be told."""
    try:
        return getpass.getuser() or COUNTER
    except (KeyError, OSError):
        return COUNTER


class Command(GoteoCommand):
    help = (
        "Marca como canjeada una promoción en el mostrador: por el código propio del cliente "
        "(p. ej. NAVIDAD2026-7K3F9QX2) o, si todos recibieron el mismo código, por su teléfono "
        "y el código de la promoción. Termina con 0 si quedó canjeada y con 1 (diciendo por qué) "
        "si el código no existe, ya se canjeó o la promoción venció."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "code",
            nargs="?",
            metavar="CÓDIGO",
            help="el código propio del cliente, p. ej. NAVIDAD2026-7K3F9QX2",
        )
        parser.add_argument("--phone", metavar="TELÉFONO", help="el teléfono del cliente (código compartido)")
        parser.add_argument("--promotion", metavar="PROMOCIÓN", help="con --phone: el código de la promoción")
        parser.add_argument(
            "--reason", default="", metavar="MOTIVO", help="para aceptar una promoción vencida: por qué"
        )
        parser.add_argument(
            "--by", metavar="QUIÉN", help="quién atiende (por defecto, el usuario del sistema)"
        )

    def handle(self, *args: Any, **o: Any) -> None:
        code, phone, promotion = o["code"], o["phone"], o["promotion"]
        if code and (phone or promotion):
            raise CommandError("Indique el código del cliente, o --phone y --promotion, pero no ambos.")
        if not code and not (phone and promotion):
            raise CommandError(
                "Indique el código del cliente (goteo redeem NAVIDAD2026-7K3F9QX2), o su teléfono y "
                "la promoción (goteo redeem --phone 3001234567 --promotion NAVIDAD2026)."
            )
        try:
            found = find_by_code(code) if code else find_by_phone(phone, promotion)
            redemption = found.redeem(timezone.now(), o["by"] or os_user(), o["reason"])
        except RedemptionRefused as exc:
            raise CommandError(str(exc)) from None
        note = f" Vencida; aceptada por: {redemption.override_reason}." if redemption.override_reason else ""
        self.stdout.write(
            f"Canjeado: {found.promotion.code} ({found.promotion.benefit}) para {found.name}, "
            f"atendió {redemption.redeemed_by}.{note}"
        )
