"""Lifting a number's brake by hand: finding the number, lifting, and saying what follows.

A brake stops a number for the rest of its day and pauses its campaigns. A person who has
looked at the reason (on the phone, in WhatsApp Manager) lifts it from the console
(``goteo unbrake NUMBER``) or the dashboard; who and when go to the number's brake log.
The campaigns the brake paused stay paused until the person resumes them.
"""

from __future__ import annotations

import getpass
import logging
from datetime import datetime

from django.utils.translation import gettext

from goteo.models import Campaign, CampaignStatus, Sender
from goteo.transports.config import ConfigurationError, sender_config

log = logging.getLogger(__name__)

CONSOLE_ACTOR = "consola"
# Where a sender's own phone may be written, by provider (Twilio's sender, Meta's display number).
PHONE_KEYS = ("from", "phone", "display_phone_number")


def console_actor() -> str:
    """Who is typing at the console: the OS user, or "consola" when it cannot be told."""
    try:
        return getpass.getuser() or CONSOLE_ACTOR
    except (KeyError, OSError):
        return CONSOLE_ACTOR


def digits(text: str) -> str:
    return "".join(ch for ch in str(text) if ch.isdigit())


def sender_phones(sender: Sender) -> set[str]:
    """The digits of every phone this sender is known by (config and last health check)."""
    try:
        config = sender_config(sender)
    except ConfigurationError:
        config = dict(sender.config or {})
    extra = (sender.health or {}).get("extra") or {}
    found = {digits(config.get(key) or "") for key in PHONE_KEYS} | {
        digits(extra.get(key) or "") for key in PHONE_KEYS
    }
    return {phone for phone in found if len(phone) >= 7}


def find_sender(text: str) -> Sender | None:
    """The sender named ``text``, or else the one whose phone has these digits."""
    name = text.strip()
    sender = Sender.objects.filter(name=name).first()
    if sender is not None or len(digits(name)) < 7:
        return sender
    wanted = digits(name)
    matches = [
        s
        for s in Sender.objects.all()
        if any(p.endswith(wanted) or wanted.endswith(p) for p in sender_phones(s))
    ]
    return matches[0] if len(matches) == 1 else None


def paused_by_brake(sender: Sender) -> list[Campaign]:
    """The sender's paused campaigns, which a person may now resume."""
    return list(Campaign.objects.filter(sender=sender, status=CampaignStatus.PAUSED).order_by("pk"))


def lift(sender: Sender, by: str, now: datetime) -> bool:
    """Lift ``sender``'s brake as ``by``; False when it was not braked."""
    reason = sender.pause_reason
    if not sender.lift_brake(by, now=now):
        return False
    log.warning("sender %s: brake lifted by %s (it said: %s)", sender.name, by, reason)
    return True


def braked_until_text(sender: Sender) -> str:
    """ "07/12/2026 23:59", the end of the brake in the number's time zone."""
    if sender.paused_until is None:
        return ""
    return sender.paused_until.astimezone(sender.tz).strftime("%d/%m/%Y %H:%M")


def resume_warning(sender: Sender, now: datetime, *, how: str) -> str:
    """What resuming a campaign of a braked number leaves undone, with ``how`` to lift it.

    "" when the number is not braked.
    """
    if not sender.is_braked(now):
        return ""
    return gettext(
        "Pero el número «%(name)s» está frenado hasta el %(until)s (%(reason)s) y no enviará "
        "nada hasta entonces. Si ya revisó el motivo, %(how)s."
    ) % {"name": sender.name, "until": braked_until_text(sender), "reason": sender.pause_reason, "how": how}
