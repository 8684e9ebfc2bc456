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

from django.utils.translation import gettext

from goteo.models import Campaign, Sender
from goteo.transports import ConfigurationError, transport_class

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


def pause_mismatched(campaigns: Iterable[Campaign], report: Callable[[str], None]) -> list[str]:
    """Pause each active campaign whose number is not in the mode it was started in; a
    note for each."""
    notes = []
    for campaign in campaigns:
        reason = mode_mismatch(campaign)
        if reason and campaign.pause(reason):
            notes.append(f"{campaign.name}: pausada. {reason}")
            report(f"⏸ {campaign.name}: pausada. {reason}")
    return notes
