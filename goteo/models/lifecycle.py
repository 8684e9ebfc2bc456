"""A message's lifecycle: its states, who may move it, and every legal move, as data.

``TRANSITIONS`` is the one table of legal changes of state. ``Message.objects.transition``
checks it on every change (and writes the event and moves the campaign's counters); the
engine's raw SQL statements are rows of it too and may ask ``check`` (a dict lookup).

The path of one message: launch creates it ``pending`` (or ``skipped``, for someone who
may not receive it); a worker claims it (``sending``) and records what the provider said:
``sent``, ``failed``, ``skipped`` (the person opted out), ``pending`` again (certainly not
sent: try later), or ``unknown`` (maybe sent: never retried without a person's decision).
Receipts, people at the shop and housekeeping make the other moves below. A campaign's
own states are here too, so the modules that move messages need not import campaigns.
"""

from __future__ import annotations

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    SENDING = "sending", _("Enviando")
    SENT = "sent", _("Enviado")
    FAILED = "failed", _("Fallido")
    SKIPPED = "skipped", _("Omitido")
    UNKNOWN = "unknown", _("Sin confirmar")
    # Printed by a number in test mode (goteo.simulation): nobody received it.
    SIMULATED = "simulated", _("Simulado")


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("sin consentimiento")
    OPTED_OUT = "opted_out", _("se dio de baja")
    INVALID_PHONE = "invalid_phone", _("teléfono inválido")
    DUPLICATE_PHONE = "duplicate_phone", _("teléfono repetido en la campaña")
    EXPIRED = "expired", _("la promoción venció")
    ENDED = "ended", _("la campaña terminó")
    CANCELLED = "cancelled", _("campaña cancelada")
    EXCLUDED = "excluded", _("en lista de exclusión")
    OPERATOR = "operator", _("omitido por una persona")
    LANDLINE = "landline", _("teléfono fijo")
    # An automation's message that could not go out within its grace period (goteo.automations).
    LATE = "late", _("pasó el plazo para enviarlo")
    # The date a reminder counted from changed before it went out: it no longer applies.
    DATE_MOVED = "date_moved", _("la fecha cambió")


class CampaignStatus(models.TextChoices):
    """Where a campaign stands; its messages move only while it is active."""

    DRAFT = "draft", _("Borrador")
    SCHEDULED = "scheduled", _("Programada")
    ACTIVE = "active", _("En progreso")
    PAUSED = "paused", _("Pausada")
    COMPLETED = "completed", _("Completada")
    CANCELLED = "cancelled", _("Cancelada")


class Actor(enum.Enum):
    """The kinds of actor that change a message's state."""

    LAUNCH = "launch"  # creates the rows (in LAUNCH_STATES), moves none
    WORKER = "worker"  # the sending worker: its claim and the outcomes it records
    RECEIPT = "receipt"  # a provider's webhook about a message already handed over
    OWNER = "owner"  # a person at the shop, from the dashboard, the admin or a command
    RECIPIENT = "recipient"  # the person the message is for, asking for no more promotions
    HOUSEKEEPING = "housekeeping"  # the stale sweep and the promotion's expiry


PENDING, SENDING, SENT = MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.SENT
FAILED, SKIPPED, UNKNOWN = MessageStatus.FAILED, MessageStatus.SKIPPED, MessageStatus.UNKNOWN
SIMULATED = MessageStatus.SIMULATED
WORKER, RECEIPT, OWNER = Actor.WORKER, Actor.RECEIPT, Actor.OWNER
RECIPIENT, HOUSEKEEPING = Actor.RECIPIENT, Actor.HOUSEKEEPING

# The states launch creates messages in; every later change is a row of TRANSITIONS.
LAUNCH_STATES = frozenset({PENDING.value, SKIPPED.value})

TRANSITIONS: dict[tuple[str, str], frozenset[Actor]] = {
    (k[0].value, k[1].value): frozenset(v)
    for k, v in {
        # The claim, committed before the provider is called.
        (PENDING, SENDING): {WORKER},
        # Cancelled, on an exclusion list, opted out, or the promotion expired.
        (PENDING, SKIPPED): {OWNER, RECIPIENT, HOUSEKEEPING},
        # The provider's answer, recorded by the worker that holds the claim.
        (SENDING, SENT): {WORKER},
        (SENDING, FAILED): {WORKER},
        (SENDING, SKIPPED): {WORKER},  # the provider says the person opted out
        (SENDING, PENDING): {WORKER},  # certainly not sent: a retry, or the number stopped
        (SENDING, UNKNOWN): {WORKER, HOUSEKEEPING},  # maybe sent; or its worker died
        (SENDING, SIMULATED): {WORKER, HOUSEKEEPING},  # test mode: only printed
        # Nobody knows whether it went out, until a receipt, the late answer or a person says.
        (UNKNOWN, SENT): {WORKER, RECEIPT, OWNER},
        (UNKNOWN, FAILED): {RECEIPT, OWNER},
        (UNKNOWN, SKIPPED): {RECEIPT},  # a failed receipt: the person opted out
        (UNKNOWN, PENDING): {RECEIPT, OWNER},  # refused for today; or a person's audited resend
        (UNKNOWN, SIMULATED): {WORKER},  # a simulation's late answer
        # A failed receipt for a daily limit: tried again tomorrow.
        (SENT, PENDING): {RECEIPT},
        # A person's second chance: failed messages again, expired ones when the promotion moves.
        (FAILED, PENDING): {OWNER},
        (SKIPPED, PENDING): {OWNER},
    }.items()
}


class IllegalTransition(ValueError):
    """A change of state the lifecycle does not allow to that actor."""


def is_legal(from_status: str, to_status: str, actor: Actor) -> bool:
    """Whether ``actor`` may move a message from ``from_status`` to ``to_status``."""
    return actor in TRANSITIONS.get((from_status, to_status), ())


def check(from_status: str, to_status: str, actor: Actor) -> None:
    """Raise IllegalTransition unless the table allows the move (a dict lookup)."""
    if actor not in TRANSITIONS.get((from_status, to_status), ()):
        raise IllegalTransition(f"{actor.value} may not move a message from {from_status} to {to_status}")


def moves_of(actor: Actor) -> frozenset[tuple[str, str]]:
    """Every (from, to) that ``actor`` may make."""
    return frozenset(pair for pair, actors in TRANSITIONS.items() if actor in actors)
