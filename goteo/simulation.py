"""Test mode: a number whose transport only prints (``console``) simulates; it never delivers.

A simulated message ends ``simulated``: it is not sent, never counts as a promotion
received (the frequency cap reads ``sent_at``, which a simulation leaves empty; the risk
signals read sent, failed and unknown messages), and the same people can be reached by a
real campaign later. A campaign runs in the mode it was started in: a real campaign never
starts on a number in test mode, and one started as a simulation (``simulation``) never
sends for real. If the number's mode changes under an active campaign, the campaign
pauses with the reason (``pause_mismatched``); a simulation is not re-run for real, a new
campaign is made for that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext

from goteo.models import Actor, Campaign, Message, MessageStatus, Sender
from goteo.phones import mask_phone
from goteo.transports import ConfigurationError, transport_class
from goteo.writes import write_transaction

if TYPE_CHECKING:
    from goteo.engine import Claim, Engine, RunSummary

CONNECT_DOCS = "«Conectar WhatsApp» del README y docs/providers.md"
SIMULATE_HINT = "Para simular, añada --simulate."  # the commands' way to ask for a simulation


def simulation_notice() -> str:
    return gettext("modo de prueba: los mensajes no salen por WhatsApp")


def sender_simulates(sender: Sender) -> bool:
    """Whether ``sender`` is in test mode: its provider only prints the messages."""
    try:
        return transport_class(sender.effective_backend).simulates
    except ConfigurationError:
        return False


def connection_mark(sender: Sender, connected: bool) -> str:
    """ "✅ conectado", "✖ desconectado" or, for a number in test mode, "🧪 modo de prueba"."""
    if connected and sender_simulates(sender):
        return "🧪 " + gettext("modo de prueba")
    return "✅ " + gettext("conectado") if connected else "✖ " + gettext("desconectado")


def launch_refusal(campaign: Campaign, simulate: bool) -> str:
    """Why the campaign may not start in the mode asked for, or "" when it may."""
    sender = campaign.sender
    if sender_simulates(sender) and not simulate:
        return gettext(
            "El número «%(name)s» está en modo de prueba: los mensajes no salen por WhatsApp, "
            "solo se imprimen. Para enviar de verdad, conecte WhatsApp (vea la sección %(docs)s) y vuelva "
            "a iniciar la campaña; para ensayarla sin enviar nada, iníciela como simulación."
        ) % {"name": sender.name, "docs": CONNECT_DOCS}
    if simulate and not sender_simulates(sender):
        return gettext(
            "El número «%(name)s» está conectado a WhatsApp (%(backend)s): con él los mensajes "
            "salen de verdad, no se puede simular. Iníciela sin simulación."
        ) % {"name": sender.name, "backend": sender.effective_backend}
    return ""


def mode_mismatch(campaign: Campaign) -> str:
    """Why an active campaign may not send on its number as it is now, or ""."""
    simulates = sender_simulates(campaign.sender)
    if simulates and not campaign.simulation:
        return gettext(
            "El número está en modo de prueba: los mensajes no saldrían por WhatsApp. "
            "Conecte WhatsApp (vea la sección %(docs)s) y reanude la campaña."
        ) % {"docs": CONNECT_DOCS}
    if campaign.simulation and not simulates:
        return gettext(
            "Es una simulación y el número ya envía por WhatsApp de verdad: no se envía nada. "
            "Para enviar esta promoción, cree una campaña nueva."
        )
    return ""


def pause_mismatched(
    campaigns: Iterable[Campaign], summary: RunSummary, report: Callable[[str], None]
) -> None:
    """Pause each active campaign whose number is not in the mode it was started in."""
    for campaign in campaigns:
        reason = mode_mismatch(campaign)
        if reason and campaign.pause(reason):
            summary.notes.append(f"{campaign.name}: pausada. {reason}")
            report(f"⏸ {campaign.name}: pausada. {reason}")


def record_simulated(engine: Engine, claim: Claim, provider_id: str, summary: RunSummary) -> None:
    """Engine.record_sent for a message a simulating transport took: ``simulated``, no
    ``sent_at``. A message the sweep marked unknown meanwhile becomes simulated too: it
    was only printed."""
    now = engine.clock.now()
    fields: dict[str, Any] = {"finished_at": now, "provider_message_id": provider_id or "", "last_error": ""}
    with write_transaction():
        if not engine.finish(claim, MessageStatus.SIMULATED, now, provider_id, **fields):
            late = Message.objects.filter(
                pk=claim.message_id, status=MessageStatus.UNKNOWN, claim_token=claim.token
            )
            late.transition(
                MessageStatus.SIMULATED,
                actor=Actor.WORKER,
                by=engine.worker_name,
                now=now,
                detail="respuesta tardía de una simulación",
                **fields,
            )
        engine.complete_if_done(claim.campaign, now)
    summary.simulated += 1
    who = f"{claim.outgoing.variables.get('full_name', '')} ({mask_phone(claim.outgoing.to)})"
    engine.report(f"🧪 {who} {claim.outcome}")


def finish_stale_simulations(messages: QuerySet[Message], now: datetime, actor: str) -> int:
    """The simulations' messages among ``messages`` still ``sending`` (their process stopped)
    become ``simulated``, not ``unknown``: a simulation only prints, so nobody can have
    received them, and they must not hold anyone back. Returns how many."""
    detail = "el proceso se detuvo mientras lo simulaba; nadie lo recibió"
    stale = Message.objects.filter(
        pk__in=messages.filter(status=MessageStatus.SENDING, campaign__simulation=True).values("pk")
    )
    return stale.transition(
        MessageStatus.SIMULATED,
        actor=Actor.HOUSEKEEPING,
        by=actor,
        now=now,
        detail=detail,
        finished_at=now,
        last_error=detail,
    )
