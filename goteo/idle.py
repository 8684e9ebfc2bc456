"""Why a campaign sends nothing right now, and when it will send again.

One plain function, ``idle_reason``, so ``goteo process_campaigns`` and the dashboard say the
same thing. The "when" is ``goteo.forecast.next_send_at``; this module only names the brake
that holds the campaign, checked in the order a person would look for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from goteo.forecast import all_held_until, next_send_at, used_today
from goteo.frequency import held_messages
from goteo.models import Campaign, CampaignStatus
from goteo.schedule import SPANISH_WEEKDAYS, describe_moment, describe_start, is_holiday
from goteo.triggers import BIRTHDAY, DATE_FIELDS, TriggerError, parse_trigger


@dataclass(frozen=True)
class IdleReason:
    """``code`` is a stable English key for machines; ``text`` the Spanish for a person."""

    code: str
    text: str
    next_send_at: datetime | None = None
    used: int | None = None
    limit: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.code,
            "next_send_at": self.next_send_at,
            "used": self.used,
            "limit": self.limit,
            "text": self.text,
        }


def idle_reason(campaign: Campaign, now: datetime, disconnected: str = "") -> IdleReason:
    """What keeps ``campaign`` from sending at ``now``, with when it will send next.

    ``disconnected`` is why its number could not connect, when the caller just found out.
    """
    status = campaign.status
    if status == CampaignStatus.DRAFT:
        return IdleReason("not_started", "en borrador: todavía no se ha iniciado")
    if status == CampaignStatus.SCHEDULED and campaign.start_at is not None:
        start = describe_start(campaign.start_at, now, campaign.sender.tz)
        return IdleReason("scheduled", f"programada para {start}", campaign.start_at)
    if status == CampaignStatus.PAUSED:
        why = f": {campaign.pause_reason}" if campaign.pause_reason else ""
        sender = campaign.sender
        if sender.is_braked(now):
            until = describe_moment(sender.paused_until, now, sender.tz)
            why += f"; número {sender.name} frenado hasta {until}"
        return IdleReason("paused", f"en pausa{why}; no envía hasta que se reanude")
    if status == CampaignStatus.COMPLETED:
        return IdleReason("completed", "terminada: ya no queda nadie por enviar")
    if status == CampaignStatus.CANCELLED:
        return IdleReason("cancelled", "cancelada")
    if campaign.pending_count <= 0:
        if campaign.is_automation and campaign.sending_count <= 0:
            return waiting_for_trigger(campaign)
        if campaign.sending_count > 0:
            return IdleReason("in_flight", "no queda nadie pendiente; los últimos mensajes se están enviando")
        return IdleReason("nothing_pending", "no queda nadie pendiente")
    if campaign.is_expired(now):
        valid_until = campaign.promotion.valid_until
        return IdleReason(
            "expired", f"la promoción venció el {valid_until:%d/%m/%Y}; lo pendiente se omitirá"
        )
    if campaign.has_ended(now):
        return IdleReason("ended", "la campaña terminó; lo pendiente se omitirá")
    sender = campaign.sender
    if not sender.is_active:
        return IdleReason("sender_inactive", f"el número {sender.name} está desactivado")
    if disconnected:
        return IdleReason(
            "disconnected", f"WhatsApp del número {sender.name} no está conectado ({disconnected})"
        )

    used = used_today(campaign, now)
    held = held_messages(campaign, now)
    when = next_send_at(campaign, now, held, used)

    def reason(code: str, text: str, **extra: Any) -> IdleReason:
        after = f"próximo envío {describe_moment(when, now, sender.tz)}" if when else "no hay fecha de envío"
        return IdleReason(code, f"{text}; {after}", when, **extra)

    campaign_used, sender_used = used
    today = campaign.local_today(now)
    if sender.paused_until and sender.paused_until > now:
        braked_until = describe_moment(sender.paused_until, now, sender.tz)
        why = f" ({sender.pause_reason})" if sender.pause_reason else ""
        return reason("sender_braked", f"número {sender.name} frenado hasta {braked_until}{why}")
    if campaign_used >= campaign.daily_limit:
        return reason(
            "daily_limit",
            f"límite diario alcanzado ({campaign_used} de {campaign.daily_limit})",
            used=campaign_used,
            limit=campaign.daily_limit,
        )
    cap = sender.cap_on(today)
    if sender_used >= cap:
        warmup = " en calentamiento" if sender.warmup_stage(today) else ""
        return reason(
            "sender_cap",
            f"el número {sender.name}{warmup} alcanzó su máximo del día ({sender_used} de {cap})",
            used=sender_used,
            limit=cap,
        )
    rules = campaign.sending_rules()
    if not rules.is_open(now):
        if today.weekday() not in rules.weekdays:
            day = SPANISH_WEEKDAYS[today.weekday()]
            return reason("not_sending_day", f"no envía los {day if day.endswith('s') else day + 's'}")
        if rules.holidays_country and is_holiday(today, rules.holidays_country):
            return reason("holiday", "hoy es festivo")
        window = rules.window_on(today)
        if window is None:
            return reason("closed_by_law", "la ley no permite enviar promociones hoy")
        hours = f"{window[0]:%H:%M} a {window[1]:%H:%M}"
        return reason("outside_window", f"fuera del horario ({hours})")
    if all_held_until(campaign, now, held) is not None:
        return reason(
            "frequency_cap", "todos los pendientes recibieron otra promoción hace poco (tope de frecuencia)"
        )
    if when is not None and when > now:
        if sender.next_send_at and sender.next_send_at > now:
            return reason("pacing", "esperando la pausa entre mensajes")
        return reason("retry_wait", "los pendientes esperan su próximo intento")
    return reason("unknown", "no se pudo saber por qué no envió; revise el estado del número")


def waiting_for_trigger(campaign: Campaign) -> IdleReason:
    """An active automation with nobody pending: it waits for the next person its trigger
    names, and looks again on every run (tomorrow at the latest)."""
    try:
        trigger = parse_trigger(campaign.trigger)
    except TriggerError:
        return IdleReason(
            "waiting_trigger", "automatización: hoy no queda nadie pendiente; revisa de nuevo mañana"
        )
    if trigger.kind == BIRTHDAY:
        text = "esperando al próximo cumpleaños: hoy no queda nadie por saludar; revisa de nuevo mañana"
    else:
        since = DATE_FIELDS[trigger.field]
        text = f"esperando a quien cumpla {trigger.days} días desde {since}: hoy no queda nadie; revisa de nuevo mañana"
    return IdleReason("waiting_trigger", text)
