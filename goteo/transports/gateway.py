"""What the WhatsApp-Web gateways (Evolution API, WAHA) share: typing pauses and ban signs.

A gateway drives a personal WhatsApp account, so the number can be banned. A typing pause
proportional to the message lowers the risk. Only a session that ended with a stated logout
or ban reason is a ban sign; a session that is merely down stops sending until it is back.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

TYPING_MS_PER_CHAR = 40
TYPING_MIN_MS = 2_000
TYPING_MAX_MS = 8_000
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


def unknown_state(state: str) -> str:
    """A session state the gateway reports that goteo does not know, in words."""
    return gettext("estado desconocido %(state)s") % {"state": state or gettext("(vacío)")}


def typing_ms(text: str) -> int:
    """How long to show "typing..." before ``text``: longer texts take longer to type."""
    return max(TYPING_MIN_MS, min(TYPING_MAX_MS, len(text) * TYPING_MS_PER_CHAR))
