"""What the WhatsApp-Web gateways (Evolution API, WAHA) share: typing pauses and ban signs.

A gateway drives a personal WhatsApp account, so the number can be banned. Two habits
lower the risk: a typing pause proportional to the message, and stopping at once when the
session drops right after sending, the usual first sign that WhatsApp closed the account.
"""

from __future__ import annotations

import time
from typing import NoReturn

from django.utils.translation import gettext, gettext_noop

from goteo.transports.base import SendError

TYPING_MS_PER_CHAR = 40
TYPING_MIN_MS = 2_000
TYPING_MAX_MS = 8_000
# A session that closes within this many seconds of a successful send is treated as a ban.
DROP_AFTER_SEND_SECONDS = 15 * 60
GATEWAY_BACKENDS = frozenset({"evolution", "waha"})
# The close codes after which Evolution stops reconnecting and keeps the reason on the
# instance (``codesToNotReconnect`` in whatsapp.baileys.service.ts): Baileys' loggedOut
# (401) and forbidden (403), and WhatsApp's 402 and 406. Marked for translation here.
SESSION_END_REASONS = {
    401: gettext_noop("WhatsApp cerró la sesión del número (se desvinculó el dispositivo)"),
    402: gettext_noop("WhatsApp rechazó la sesión del número (código 402): posible bloqueo"),
    403: gettext_noop("WhatsApp prohibió la conexión del número (código 403): posible bloqueo"),
    406: gettext_noop("WhatsApp rechazó la sesión del número (código 406): posible bloqueo"),
}


def session_end_reason(code: object) -> str:
    """Why a session ended for good, or "" when ``code`` is not a logout or ban."""
    text = SESSION_END_REASONS.get(code) if isinstance(code, int) else None
    if text is None:
        return ""
    return gettext("%(reason)s. Revíselo en el teléfono antes de levantar el freno") % {
        "reason": gettext(text)
    }


def drop_brake_reason(detail: str) -> str:
    """Why a session that closed right after sending stops the number."""
    return gettext(
        "la sesión de WhatsApp se cerró justo después de enviar; el número puede estar "
        "bloqueado. Revíselo en el teléfono antes de reanudar (%(detail)s)"
    ) % {"detail": detail}


def unknown_state(state: str) -> str:
    """A session state the gateway reports that goteo does not know, in words."""
    return gettext("estado desconocido %(state)s") % {"state": state or gettext("(vacío)")}


def typing_ms(text: str) -> int:
    """How long to show "typing..." before ``text``: longer texts take longer to type."""
    return max(TYPING_MIN_MS, min(TYPING_MAX_MS, len(text) * TYPING_MS_PER_CHAR))


class DropWatch:
    """Remembers the last successful send, to tell a ban from an ordinary disconnection."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.last_sent: float | None = None

    def sent(self) -> None:
        self.last_sent = self.clock()

    def check(self, error: SendError) -> SendError:
        """A disconnection right after a send becomes a brake; anything else is unchanged."""
        recent = self.last_sent is not None and self.clock() - self.last_sent < DROP_AFTER_SEND_SECONDS
        if error.kind == SendError.DISCONNECTED and recent:
            return SendError(SendError.BRAKE, drop_brake_reason(error.reason), code=error.code)
        return error

    def reraise(self, error: SendError) -> NoReturn:
        """Raise ``error``, or the brake it turns into, keeping the original as the cause."""
        checked = self.check(error)
        if checked is error:
            raise error
        raise checked from error
