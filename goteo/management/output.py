"""Small helpers shared by goteo's commands: finding a campaign, printing summaries."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.management.base import CommandError
from django.db.models import Model

from goteo.models import Campaign, SkipReason
from goteo.web.formatting import contact_noun


def get_campaign(campaign_id: int) -> Campaign:
    try:
        return Campaign.objects.select_related("promotion", "sender").get(pk=campaign_id)
    except Campaign.DoesNotExist:
        raise CommandError(f"No existe la campaña {campaign_id}.") from None


# Where a field's model name would read oddly alone ("hasta: ..."), the name a person knows it by.
FIELD_NAMES = {
    "window_start": "inicio del horario",
    "window_end": "fin del horario",
    "send_days": "días de envío",
    "phone": "teléfono",
}


def field_name(model: type[Model], field: str) -> str:
    """The Spanish name of ``model``'s ``field`` for an error message."""
    if field in FIELD_NAMES:
        return FIELD_NAMES[field]
    try:
        return str(getattr(model._meta.get_field(field), "verbose_name", field))
    except FieldDoesNotExist:
        return field


def field_errors(model: type[Model], exc: ValidationError) -> str:
    """A model's validation errors as one line, each after its field's Spanish name."""
    parts = []
    for field, messages in exc.message_dict.items():
        text = " ".join(messages)
        parts.append(text if field == NON_FIELD_ERRORS else f"{field_name(model, field)}: {text}")
    return "; ".join(parts)


def skip_label(code: str) -> str:
    """The Spanish reason for a skip code ("no_consent" -> "sin consentimiento")."""
    try:
        return str(SkipReason(code).label)
    except ValueError:
        return code


def to_json(data: Any) -> str:
    def default(value: Any) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        return str(value)

    return json.dumps(data, ensure_ascii=False, default=default)


def counted(n: int, singular: str, plural: str = "") -> str:
    """ "1 enviado", "2 enviados": a number with its word in the right number."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def mark_and_detail(mark: str, detail: str) -> str:
    """ "✅ conectado — detalle", without a detail that only repeats the mark ("conectado")."""
    if not detail or detail.strip().lower() in mark.lower():
        return mark
    return f"{mark} — {detail}"


def progress_bar(percent: int, width: int = 24) -> str:
    filled = round(width * percent / 100)
    return "█" * filled + "░" * (width - filled)


def summary_card(s: dict[str, Any]) -> str:
    """The seed's campaign card, as plain text."""
    simulated = s.get("simulation") or s.get("simulated")
    automation = bool(s.get("automation"))
    lines = [
        f"{'Automatización' if automation else 'Campaña'}: {s['name']} (#{s['id']})",
        *(
            [f"🔁 Envía {s['trigger_label']}; si no se puede en {s['grace_days']} días, se omite"]
            if automation
            else []
        ),
        *(["🧪 Simulación (modo de prueba): los mensajes no salen por WhatsApp"] if simulated else []),
        f"Total: {s['total']} {contact_noun(s['total'])}",
        f"✅ Enviados: {s['sent']} de {s['receivable']} ({s['progress_percent']}%)",
        *(
            [
                f"🧪 Simulados (nadie los recibió): {s['simulated']} de {s['receivable']} ({s['percent_simulated']}%)"
            ]
            if simulated
            else []
        ),
        f"⏳ Pendientes: {s['pending']} ({s['percent_pending']}%)",
        f"❌ Fallidos: {s['failed']}",
        f"⏭  Omitidos: {s['skipped']}" + (" (no pueden recibirla; fuera del avance)" if s["skipped"] else ""),
        f"❓ Sin confirmar: {s['unknown']}",
        f"[{progress_bar(min(100, s['progress_percent'] + s['percent_simulated']))}] {s['progress_percent']}%"
        + (f" (+{s['percent_simulated']}% simulados)" if s["percent_simulated"] else ""),
        f"Estado: {s['status_label']}"
        + (f" — {s['start_text']}" if s.get("start_text") else "")
        + (f" — {s['pause_reason']}" if s.get("pause_reason") else ""),
        f"Próximo envío: {s['next_send_text']}",
        f"Terminará: {s['estimated_completion_text']}"
        if not automation
        else "Terminará: no termina sola; cada día suma a quien le toca",
    ]
    return "\n".join(lines)
