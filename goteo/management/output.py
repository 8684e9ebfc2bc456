"""Small helpers shared by goteo's commands: finding a campaign, printing summaries."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.core.management.base import CommandError

from goteo.models import Campaign
from goteo.web.formatting import contact_noun


def get_campaign(campaign_id: int) -> Campaign:
    try:
        return Campaign.objects.select_related("promotion", "sender").get(pk=campaign_id)
    except Campaign.DoesNotExist:
        raise CommandError(f"No existe la campaña {campaign_id}.") from None


def to_json(data: Any) -> str:
    def default(value: Any) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    return json.dumps(data, ensure_ascii=False, default=default)


def progress_bar(percent: int, width: int = 24) -> str:
    filled = round(width * percent / 100)
    return "█" * filled + "░" * (width - filled)


def summary_card(s: dict[str, Any]) -> str:
    """The seed's campaign card, as plain text."""
    lines = [
        f"Campaña: {s['name']} (#{s['id']})",
        f"Total: {s['total']} {contact_noun(s['total'])}",
        f"✅ Enviados: {s['sent']} ({s['percent']}%)",
        f"⏳ Pendientes: {s['pending']} ({s['percent_pending']}%)",
        f"❌ Fallidos: {s['failed']}",
        f"⏭  Omitidos: {s['skipped']}",
        f"❓ Sin confirmar: {s['unknown']}",
        f"[{progress_bar(s['percent'])}] {s['percent']}%",
        f"Estado: {s['status_label']}" + (f" — {s['pause_reason']}" if s.get("pause_reason") else ""),
        f"Próximo envío: {s['next_send_text']}",
        f"Terminará: {s['estimated_completion_text']}",
    ]
    return "\n".join(lines)
