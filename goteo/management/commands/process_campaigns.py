"""``goteo process_campaigns``: send what is allowed now for every active campaign."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser

from goteo.automations import automation_fields, due_today
from goteo.clock import SystemClock
from goteo.forecast import next_recipients
from goteo.heartbeat import ScheduledRun
from goteo.idle import IdleReason, idle_reason
from goteo.management.base import GoteoCommand
from goteo.management.output import counted, to_json
from goteo.models import Campaign, CampaignStatus
from goteo.phones import mask_phone
from goteo.sending import Engine, RunSummary
from goteo.simulation import simulation_notice
from goteo.status import campaign_summary


class Command(GoteoCommand):
    help = "Envía los mensajes permitidos ahora en cada campaña activa y termina."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", type=int, action="append", help="solo esta campaña (repetible)")
        parser.add_argument("--dry-run", action="store_true", help="muestra quién recibiría ahora; no envía")
        parser.add_argument("--json", action="store_true", help="imprime un resumen en JSON")

    def handle(
        self,
        *args: Any,
        campaign: list[int] | None = None,
        dry_run: bool = False,
        json: bool = False,
        **options: Any,
    ) -> None:
        clock = SystemClock()
        missing = sorted(
            set(campaign or ())
            - set(Campaign.objects.filter(pk__in=campaign or ()).values_list("pk", flat=True))
        )
        if missing:
            raise CommandError(f"No existe la campaña {', '.join(map(str, missing))}.")
        if dry_run:
            return self.dry_run(clock.now(), campaign, json)
        lines: list[str] = []
        run = ScheduledRun(clock)
        run.start()
        before = sent_counts(campaign)

        def report(line: str) -> None:
            run.still_running()  # each send renews the heartbeat, so a long run is seen
            (lines.append if json else self.say)(line)

        try:
            summary = Engine(clock, report=report).run(campaign)
        finally:
            run.finish()
        idle = idle_campaigns(before, campaign, summary, clock.now())
        if json:
            self.stdout.write(
                to_json(
                    summary.as_dict()
                    | {
                        "ok": summary.ok,
                        "idle": [{"id": c.pk, "name": c.name} | r.as_dict() for c, r in idle],
                    }
                )
            )
        else:
            self.say(
                f"Listo: {counted(summary.sent, 'enviado')}, {summary.retried} para reintentar, "
                f"{counted(summary.failed, 'fallido')}, {summary.unknown} sin confirmar."
            )
            if summary.simulated:
                self.say(
                    f"🧪 {counted(summary.simulated, 'simulado')}: {simulation_notice()}; nadie los recibió."
                )
            for note in summary.notes:
                self.say(f"Nota: {note}")
            if not idle and not before:
                self.say("No hay campañas activas.")
            for c, why in idle:
                self.say(f"{c.name}: {why.text}")
        if not summary.ok:
            for reason in summary.disconnected:
                self.stderr.write(f"No se envió: {reason}. Los mensajes siguen pendientes.")
            sys.exit(2)

    def say(self, line: str) -> None:
        self.stdout.write(line)

    def dry_run(self, now: datetime, campaign_ids: list[int] | None, as_json: bool) -> None:
        campaigns = Campaign.objects.filter(status__in=WATCHED).select_related("promotion", "sender")
        if campaign_ids:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        report: list[dict[str, Any]] = []
        for campaign in campaigns:
            is_open = campaign.status == CampaignStatus.ACTIVE and campaign.sending_rules().is_open(now)
            people = next_recipients(campaign, now) if is_open else []
            item: dict[str, Any] = {
                "id": campaign.pk,
                "name": campaign.name,
                "open_now": is_open,
                "next_send_at": campaign_summary(campaign, now)["next_send_at"],
                "recipients": [{"name": n, "phone": mask_phone(p)} for n, p in people],
                "idle": None if people else idle_reason(campaign, now).as_dict(),
            }
            if campaign.is_automation:
                item |= automation_fields(campaign)
                item["enroll_today"] = [
                    {"name": c.full_name, "phone": mask_phone(c.phone), "occurrence": due.key}
                    for c, due in due_today(campaign, now)
                ]
            report.append(item)
        if as_json:
            self.stdout.write(to_json({"dry_run": True, "campaigns": report}))
            return
        if not report:
            self.say("No hay campañas activas.")
        for item in report:
            if item.get("automation"):
                joining = item["enroll_today"]
                self.say(
                    f"{item['name']} (automatización, {item['trigger_label']}): hoy se sumarían "
                    f"{counted(len(joining), 'persona')}" + (":" if joining else ".")
                )
                for person in joining:
                    self.say(f"  + {person['name']} ({person['phone']})")
            if item["idle"]:
                self.say(f"{item['name']}: nadie recibe ahora: {item['idle']['text']}")
                continue
            self.say(
                f"{item['name']}: recibirían ahora {counted(len(item['recipients']), 'persona')} (simulación, no se envía):"
            )
            for person in item["recipients"]:
                self.say(f"  · {person['name']} ({person['phone']})")


# What a run looks at and reports on: the campaigns sending, and those waiting for their start.
WATCHED = [CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED]


def sent_counts(campaign_ids: list[int] | None) -> dict[int, int]:
    """What each campaign the run looks at has sent so far, simulated sends included: the
    active ones, and any asked for by id."""
    campaigns = (
        Campaign.objects.filter(pk__in=campaign_ids)
        if campaign_ids
        else Campaign.objects.filter(status__in=WATCHED)
    )
    return {
        pk: sent + simulated
        for pk, sent, simulated in campaigns.values_list("pk", "sent_count", "simulated_count")
    }


def idle_campaigns(
    before: dict[int, int], campaign_ids: list[int] | None, summary: RunSummary, now: datetime
) -> list[tuple[Campaign, IdleReason]]:
    """The campaigns the run looked at that sent nothing, each with why and when it will."""
    disconnected = dict(d.split(": ", 1) for d in summary.disconnected if ": " in d)
    campaigns = Campaign.objects.filter(pk__in=before).select_related("promotion", "sender").order_by("pk")
    return [
        (c, idle_reason(c, now, disconnected.get(c.sender.name, "")))
        for c in campaigns
        if c.sent_count + c.simulated_count == before[c.pk]
    ]
