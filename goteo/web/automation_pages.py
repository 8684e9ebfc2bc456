"""An automation in the dashboard: its trigger in words, who a run would enroll today, who
waits and why, and who was skipped for being late or because their date changed.

The list reads only the counters on each row; the page adds a few bounded queries (today's
due people, ten waiting, the late and moved skips), never one per message.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.utils.translation import gettext as _

from goteo import automations
from goteo.funnel import funnel
from goteo.idle import idle_reason
from goteo.models import Campaign, CampaignStatus, MessageStatus
from goteo.models.lifecycle import SkipReason
from goteo.phones import mask_phone
from goteo.triggers import TriggerError, parse_trigger

SHOWN = 10  # people named per block: enough to recognise, short on a phone
LATE_REASONS = (SkipReason.LATE, SkipReason.DATE_MOVED)
CLOSED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


def trigger_text(campaign: Campaign) -> str:
    """«el día de su cumpleaños», «365 días después de su última visita»."""
    try:
        return parse_trigger(campaign.trigger).describe()
    except TriggerError:
        return _("una fecha que no se pudo leer")


def status_label(campaign: Campaign) -> str:
    """The status in an automation's words: it is «Activa», never «Completada»."""
    labels = {
        CampaignStatus.DRAFT: _("Borrador"),
        CampaignStatus.ACTIVE: _("Activa"),
        CampaignStatus.PAUSED: _("Pausada"),
        CampaignStatus.CANCELLED: _("Detenida"),
    }
    return str(labels.get(CampaignStatus(campaign.status), campaign.get_status_display()))


def results(campaign: Campaign) -> dict[str, Any]:
    """What it brought so far: the funnel once it has really sent, else sent, failed and
    skipped; and how many wait. Read from the counters on the row."""
    real = not campaign.simulation and campaign.sent_count > 0
    return {
        "funnel": funnel(campaign) if real else None,
        "sent": campaign.sent_count,
        "simulated": campaign.simulated_count,
        "failed": campaign.failed_count,
        "skipped": campaign.skipped_count,
        "waiting": campaign.pending_count,
    }


def row(campaign: Campaign) -> dict[str, Any]:
    """One automation in the list."""
    return {"trigger": trigger_text(campaign), "status_label": status_label(campaign)} | results(campaign)


def deadline_text(deadline: datetime, tz: ZoneInfo) -> str:
    """«se omite si no sale hasta el 14/12», or with the hour when it is not a day's end."""
    local = deadline.astimezone(tz)
    if local.time() == time.min:  # the first moment of the next day
        return _("se omite si no sale hasta el %(dia)s") % {"dia": f"{local - timedelta(days=1):%d/%m}"}
    if local.time() >= time(23, 59):  # the last moment of the day
        return _("se omite si no sale hasta el %(dia)s") % {"dia": f"{local:%d/%m}"}
    return _("se omite si no sale antes del %(dia)s a las %(hora)s") % {
        "dia": f"{local:%d/%m}",
        "hora": f"{local:%H:%M}",
    }


def due_today(campaign: Campaign, now: datetime, names: bool) -> dict[str, Any] | None:
    """Who a run now would enroll; names (phones masked) only for those who may see contacts."""
    if campaign.status in CLOSED:
        return None
    due = automations.due_today(campaign, now)
    people = [{"name": c.full_name, "phone": mask_phone(c.phone)} for c, _due in due[:SHOWN]] if names else []
    return {"count": len(due), "people": people, "more": len(due) - len(people) if names else 0}


def waiting(campaign: Campaign, now: datetime, names: bool) -> dict[str, Any]:
    """The people enrolled and not yet sent, why they wait, and their last day."""
    count = campaign.pending_count
    if not count:
        return {"count": 0}
    reason = idle_reason(campaign, now)
    text = reason.text if reason.code != "unknown" else _("salen en los próximos envíos")
    people = []
    if names:
        tz = campaign.sender.tz
        pending = campaign.messages.filter(status=MessageStatus.PENDING).order_by("deadline", "id")
        for name, phone, deadline in pending.values_list("contact_name", "phone", "deadline")[:SHOWN]:
            people.append(
                {
                    "name": name,
                    "phone": mask_phone(phone or ""),
                    "deadline": deadline_text(deadline, tz) if deadline else "",
                }
            )
    return {"count": count, "reason": text, "people": people, "more": count - len(people) if names else 0}


def skipped_late(campaign: Campaign, names: bool) -> dict[str, Any]:
    """How many were skipped because the grace days passed or their date changed, and the
    latest of them."""
    late = campaign.messages.filter(status=MessageStatus.SKIPPED, skip_reason__in=LATE_REASONS)
    grouped = late.order_by().values("skip_reason").annotate(n=Count("id"))
    counts: dict[str, int] = {g["skip_reason"]: g["n"] for g in grouped}
    labels = dict(SkipReason.choices)
    out: dict[str, Any] = {
        "counts": [(str(labels[r]), counts[r]) for r in LATE_REASONS if counts.get(r)],
        "people": [],
    }
    if names and counts:
        latest = late.order_by("-finished_at", "-id").values_list("contact_name", "phone", "skip_reason")
        out["people"] = [
            {"name": name, "phone": mask_phone(phone or ""), "label": str(labels[reason])}
            for name, phone, reason in latest[:SHOWN]
        ]
    return out


def automation_page(campaign: Campaign, now: datetime, names: bool) -> dict[str, Any]:
    """The automation's block on its campaign page; ``names`` when the reader may see contacts."""
    return {
        "trigger": trigger_text(campaign),
        "grace_days": campaign.grace_days,
        "status_label": status_label(campaign),
        "due": due_today(campaign, now, names),
        "waiting": waiting(campaign, now, names),
        "late": skipped_late(campaign, names),
        "names": names,
    }
