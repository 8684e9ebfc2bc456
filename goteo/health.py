"""Whether each number can send now, checked against its provider and remembered a while.

Meta allows about 200 management requests per hour, and a dashboard polls far more often
than that, so each sender's last answer is kept on its row (``Sender.health``) and reused
for a few minutes. Only a positive sign from the provider brakes the number for the rest
of its day: a spam or quality signal (quality rating RED, health BLOCKED) or a WhatsApp-Web
gateway's session closed with a logout or ban reason. A provider that cannot be reached
(connection refused, unknown host, time-out) says nothing about the number: nothing is
sent and nothing is braked, and it is asked again within a minute.

A person who lifted a brake is not overruled by the same sign seen again: a brake comes
back only when the sign is new (a session that closed after the lift, a quality that
recovered and fell again).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext

from goteo.conf import env_int
from goteo.models import Sender
from goteo.schedule import end_of_day
from goteo.transports import ConfigurationError, ConnectionStatus, Transport, transport_for
from goteo.transports.gateway import GATEWAY_BACKENDS, session_end_reason
from goteo.writes import write_transaction

log = logging.getLogger(__name__)

CONNECTED_SECONDS = 300  # how long a good answer is trusted
DISCONNECTED_SECONDS = 60  # a bad one is asked again sooner, so a fix shows up quickly
UNLINK_REPORT_SECONDS = 600  # how long after a deliberate unlink a closed session is not a ban sign


def cache_seconds(connected: bool) -> int:
    """How long a check is reused (GOTEO_HEALTH_CACHE_SECONDS overrides the good case)."""
    if connected:
        return env_int("GOTEO_HEALTH_CACHE_SECONDS", CONNECTED_SECONDS)
    return min(DISCONNECTED_SECONDS, env_int("GOTEO_HEALTH_CACHE_SECONDS", CONNECTED_SECONDS))


def sender_status(
    sender: Sender,
    now: datetime,
    use_cache: bool = True,
    *,
    transport: Transport | None = None,
) -> ConnectionStatus:
    """Whether ``sender`` can send now, and why not; brakes it on a quality signal.

    ``transport`` reuses one already built for sending; otherwise one is built and closed.
    A configuration problem is reported as not connected, never raised.
    """
    if use_cache:
        cached = cached_status(sender, now)
        if cached is not None:
            return cached
    before = dict(sender.health or {})
    previous = dict(before.get("extra") or {})
    status = fresh_status(sender, transport)
    reason = status.extra.get("brake") or session_ended(sender, status, now, before)
    if reason and waived(sender, reason, previous):
        status.extra["brake_waived"] = True
        reason = ""
    remember(sender, status, now)
    if reason and sender.pk is not None and not sender.is_braked(now):
        log.warning("sender %s braked by its connection check: %s", sender.name, reason)
        sender.brake(f"Freno automático: {reason}", end_of_day(now, sender.tz), now=now)
    return status


def session_ended(sender: Sender, status: ConnectionStatus, now: datetime, before: dict[str, Any]) -> str:
    """A gateway session closed for good with a logout or ban reason, and closed recently.

    An unreachable gateway, or a session closed for no stated reason (a restart, a network
    cut: the gateway reconnects by itself), is not a ban. Evolution keeps the reason of its
    last definitive close on the instance, so a reason counts only while the session is
    closed, if it is from the last day, later than the last time goteo saw the session
    connected, and later than a person's lifting of a brake.
    """
    if status.connected or status.unreachable or sender.effective_backend not in GATEWAY_BACKENDS:
        return ""
    reason = session_end_reason(status.extra.get("reason_code"))
    closed_at = moment(status.extra.get("reason_at"))
    if not reason or status.extra.get("state") != "close" or closed_at is None:
        return ""
    if not now - timedelta(days=1) < closed_at <= now + timedelta(minutes=5):
        return ""
    unlinked = unlinked_at(sender)
    if unlinked is not None and abs(closed_at - unlinked) <= timedelta(seconds=UNLINK_REPORT_SECONDS):
        return ""  # the owner unlinked it from the dashboard: the close is theirs, not a ban
    seen_connected = moment(before.get("checked_at")) if before.get("connected") else None
    lifted = last_lift(sender)
    if any(other is not None and other >= closed_at for other in (seen_connected, lifted)):
        return ""
    return reason


def moment(value: Any) -> datetime | None:
    """An ISO 8601 time (Evolution's ends in Z), or None."""
    try:
        found = datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def last_lift(sender: Sender) -> datetime | None:
    """When a person last lifted a brake of ``sender``, read now (a worker's row may be old)."""
    if sender.pk is not None:
        sender.brake_log = (
            Sender.objects.filter(pk=sender.pk).values_list("brake_log", flat=True).first() or []
        )
    return sender.last_lift()


def waived(sender: Sender, reason: str, previous: dict[str, Any]) -> bool:
    """True while the sign a person lifted a brake for is still the one the provider gives."""
    if previous.get("brake") != reason:
        return False
    if previous.get("brake_waived"):
        return True
    lifted = last_lift(sender)
    try:
        checked_at = datetime.fromisoformat(str((sender.health or {}).get("checked_at")))
    except ValueError:
        return False
    return lifted is not None and lifted >= checked_at


def fresh_status(sender: Sender, transport: Transport | None = None) -> ConnectionStatus:
    """Ask the provider now."""
    own = transport is None
    try:
        if transport is None:
            transport = transport_for(sender)
        return transport.check_connection()
    except ConfigurationError as exc:
        return ConnectionStatus(False, str(exc))
    finally:
        if own and transport is not None:
            transport.close()


def cached_status(sender: Sender, now: datetime) -> ConnectionStatus | None:
    """The remembered answer while it is fresh and for the same provider, else None."""
    health: dict[str, Any] = sender.health or {}
    try:
        checked_at = datetime.fromisoformat(str(health["checked_at"]))
        connected = bool(health["connected"])
    except (KeyError, ValueError):
        return None
    if health.get("backend") != sender.effective_backend:
        return None
    age = now - checked_at
    if age < timedelta(0) or age > timedelta(seconds=cache_seconds(connected)):
        return None
    return ConnectionStatus(connected, str(health.get("detail") or ""), dict(health.get("extra") or {}))


def remember(sender: Sender, status: ConnectionStatus, now: datetime) -> None:
    """Keep ``status`` on the sender's row (senders not yet saved are not cached)."""
    health = {
        "connected": status.connected,
        "detail": status.detail,
        "extra": {k: v for k, v in status.extra.items() if isinstance(v, str | int | bool)},
        "checked_at": now.isoformat(),
        "backend": sender.effective_backend,
    } | kept(sender)
    sender.health = health
    if sender.pk is not None:
        with write_transaction():
            Sender.objects.filter(pk=sender.pk).update(health=health)


def forget(sender: Sender) -> None:
    """Drop the remembered answer, so the next check asks the provider (after a failed send)."""
    sender.health = kept(sender)
    if sender.pk is not None:
        with write_transaction():
            Sender.objects.filter(pk=sender.pk).update(health=sender.health)


def unlinked(sender: Sender, now: datetime) -> None:
    """The owner unlinked the number from its gateway on purpose: a closed session is no ban sign."""
    sender.health = {"unlinked_at": now.isoformat()}
    if sender.pk is not None:
        with write_transaction():
            Sender.objects.filter(pk=sender.pk).update(health=sender.health)


def unlinked_at(sender: Sender) -> datetime | None:
    try:
        return datetime.fromisoformat(str((sender.health or {})["unlinked_at"]))
    except (KeyError, ValueError):
        return None


def unlinked_recently(sender: Sender, now: datetime) -> bool:
    """Whether the owner unlinked the number in the last few minutes (the gateway's own
    "logged out" and "closed" reports of that unlink arrive within seconds)."""
    at = unlinked_at(sender)
    return at is not None and timedelta(0) <= now - at <= timedelta(seconds=UNLINK_REPORT_SECONDS)


def kept(sender: Sender) -> dict[str, Any]:
    """What a new check or a forget keeps from the remembered answer: a deliberate unlink."""
    health: dict[str, Any] = sender.health or {}
    return {"unlinked_at": health["unlinked_at"]} if "unlinked_at" in health else {}


def brake_note(sender: Sender, now: datetime) -> str:
    """A sentence about an active brake, or "" when the number is free to send."""
    if not sender.is_braked(now) or sender.paused_until is None:
        return ""
    until = sender.paused_until.astimezone(sender.tz).strftime("%d/%m/%Y %H:%M")
    return gettext("frenado hasta %(until)s: %(reason)s") % {"until": until, "reason": sender.pause_reason}
