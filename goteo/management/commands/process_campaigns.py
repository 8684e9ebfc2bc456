"""``goteo process_campaigns``: send what is allowed now for every active campaign."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from goteo.checks import require_migrated
from goteo.clock import SystemClock
from goteo.engine import Engine
from goteo.heartbeat import ScheduledRun
from goteo.management.output import to_json
from goteo.models import Campaign, CampaignStatus
from goteo.phones import mask_phone
from goteo.status import campaign_summary, next_recipients, sending_rules


class Command(BaseCommand):
    help = "Envía los mensajes permitidos ahora en cada campaña activa y termina."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, action="append", help="solo esta campaña (repetible)")
        parser.add_argument("--dry-run", action="store_true", help="muestra quién recibiría ahora; no envía")
        parser.add_argument("--json", action="store_true", help="imprime un resumen en JSON")

    def handle(self, *args, campaign=None, dry_run=False, json=False, **options):
        require_migrated()
        clock = SystemClock()
        if dry_run:
            return self.dry_run(clock.now(), campaign, json)
        lines: list[str] = []
        run = ScheduledRun(clock)
        run.start()

        def report(line: str) -> None:
            run.still_running()  # each send renews the heartbeat, so a long run is seen
            (lines.append if json else self.say)(line)

        try:
            summary = Engine(clock, report=report).run(campaign)
        finally:
            run.finish()
        if json:
            self.stdout.write(to_json(summary.as_dict() | {"ok": summary.ok}))
        else:
            self.say(
                f"Listo: {summary.sent} enviados, {summary.retried} para reintentar, "
                f"{summary.failed} fallidos, {summary.unknown} sin confirmar."
            )
            for note in summary.notes:
                self.say(f"Nota: {note}")
        if not summary.ok:
            for reason in summary.disconnected:
                self.stderr.write(f"No se envió: {reason}. Los mensajes siguen pendientes.")
            sys.exit(2)

    def say(self, line: str) -> None:
        self.stdout.write(line)

    def dry_run(self, now, campaign_ids, as_json):
        campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE).select_related(
            "promotion", "sender"
        )
        if campaign_ids:
            campaigns = campaigns.filter(pk__in=campaign_ids)
        report = []
        for campaign in campaigns:
            is_open = sending_rules(campaign).is_open(now)
            people = next_recipients(campaign, now) if is_open else []
            report.append(
                {
                    "id": campaign.pk,
                    "name": campaign.name,
                    "open_now": is_open,
                    "next_send_at": campaign_summary(campaign, now)["next_send_at"],
                    "recipients": [{"name": n, "phone": mask_phone(p)} for n, p in people],
                }
            )
        if as_json:
            self.stdout.write(to_json({"dry_run": True, "campaigns": report}))
            return
        if not report:
            self.say("No hay campañas activas.")
        for item in report:
            if not item["open_now"]:
                self.say(f"{item['name']}: fuera del horario de envío; nadie recibe ahora.")
                continue
            self.say(
                f"{item['name']}: recibirían ahora {len(item['recipients'])} personas (simulación, no se envía):"
            )
            for person in item["recipients"]:
                self.say(f"  · {person['name']} ({person['phone']})")
