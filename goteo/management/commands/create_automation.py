"""``goteo create_automation``: a standing campaign that greets or reminds whoever is due.

The same options as create_campaign (one parser, one way of building the campaign) plus
``--trigger`` and ``--grace-days``. It starts at once, enrolling who is due today, unless
``--draft``; with ``--start-at`` it waits «Programada» until then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser

from goteo.launch import LaunchResult
from goteo.management.commands.create_campaign import Command as CreateCampaign
from goteo.management.output import counted
from goteo.models import Campaign
from goteo.triggers import TriggerError, parse_trigger


class Command(CreateCampaign):
    help = (
        "Crea una automatización (p. ej. un saludo de cumpleaños o un recordatorio al año de la "
        "última visita), la inicia (o la deja en borrador con --draft) e imprime su id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--trigger",
            required=True,
            metavar="DISPARADOR",
            help="«birthday» (el día del cumpleaños) o «days-since:last_visit:365» "
            "(365 días después de la última visita)",
        )
        parser.add_argument(
            "--grace-days",
            type=int,
            default=7,
            metavar="DÍAS",
            help="si en estos días no se pudo enviar, el mensaje se omite (por defecto 7)",
        )
        parser.add_argument("--draft", action="store_true", help="dejarla en borrador, sin iniciarla")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            o["trigger"] = parse_trigger(o["trigger"]).spec
        except TriggerError as exc:
            raise CommandError(f"--trigger: {exc} No se creó la automatización.") from None
        if o["draft"] and (o["start"] or o["simulate"]):
            raise CommandError(
                "--draft no va con --start ni --simulate: una automatización en borrador no envía."
            )
        o["start"] = not o.pop("draft")
        super().handle(*args, **o)

    def campaign_fields(self, o: dict[str, Any]) -> dict[str, Any]:
        return {"trigger": o["trigger"], "grace_days": o["grace_days"]}

    def draft_warning(self, campaign: Campaign, now: datetime) -> str:
        return ""  # who it reaches depends on the day: no forecast for a whole audience

    def started_text(self, campaign: Campaign, result: LaunchResult) -> str:
        label = parse_trigger(campaign.trigger).describe()
        return (
            f"Automatización iniciada: envía {label}. Hoy: {result.pending} por enviar, "
            f"{counted(sum(result.skipped.values()), 'omitido')}."
        )
