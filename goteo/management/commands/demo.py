"""``goteo demo``: demo patients, the NAVIDAD2026 promotion and its campaign."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from goteo.demo import DayReport, create_demo, simulate
from goteo.management.output import summary_card, to_json
from goteo.schedule import SPANISH_MONTHS, SPANISH_WEEKDAYS
from goteo.status import campaign_summary

SEED_START = date(2026, 1, 2)  # a Friday, as in the seed's walk-through


def day_label(day: date) -> str:
    return f"{SPANISH_WEEKDAYS[day.weekday()].capitalize()} {day.day} {SPANISH_MONTHS[day.month - 1].capitalize()} {day.year}"


class Command(BaseCommand):
    help = (
        "Crea 100 pacientes de demostración y la campaña NAVIDAD2026; opcionalmente simula los días de envío."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--simulate-days",
            type=int,
            default=0,
            metavar="N",
            help="simula N días de envío (desde un viernes) y muestra la tabla día por día",
        )
        parser.add_argument(
            "--start-date",
            type=date.fromisoformat,
            default=SEED_START,
            help="primer día de la simulación (por defecto el viernes 2026-01-02)",
        )
        parser.add_argument("--patients", type=int, default=100)
        parser.add_argument("--json", action="store_true", help="una línea JSON por día simulado")

    def handle(self, *args, simulate_days, start_date, patients, json, **options):
        call_command("migrate", interactive=False, verbosity=0)
        tz = timezone.get_default_timezone()
        simulated = simulate_days > 0
        start = datetime.combine(start_date, time(9, 0), tzinfo=tz) if simulated else timezone.now()
        campaign = create_demo(start, patients)
        if simulate_days <= 0:
            self.stdout.write(
                f"Demo creada: {campaign.total_count} pacientes, campaña #{campaign.pk} '{campaign.name}'."
            )
            self.stdout.write(summary_card(campaign_summary(campaign, timezone.now())))
            self.stdout.write(
                "\n🧪 Es una simulación: el número de la demo está en modo de prueba y nada sale por WhatsApp."
                "\nEnvíe lo permitido ahora (se imprime en consola) con: goteo process_campaigns"
                "\nO simule una semana con: goteo demo --simulate-days 5"
            )
            return
        if not json:
            self.stdout.write(
                f"Base de datos: {campaign.total_count} pacientes · Límite diario: {campaign.daily_limit} mensajes\n"
                "Se ejecuta process_campaigns cada día de envío a las 10:00.\n"
                "🧪 Simulación: nada sale por WhatsApp; «SIMULADOS» son los que habrían salido.\n"
            )
            self.stdout.write(
                f"{'DÍA':<5}{'FECHA':<30}{'HOY':>5}{'PENDIENTES':>12}{'SIMULADOS':>11}{'FALLIDOS':>10}"
            )
        reports = simulate(campaign, start, simulate_days, on_day=self.print_json if json else self.print_row)
        if json:
            return
        campaign.refresh_from_db()
        if campaign.pending_count == 0:
            self.stdout.write(
                f"\n🎉 CAMPAÑA COMPLETADA en {len(reports)} días de envío: {campaign.simulated_count} simulados."
            )
        else:
            self.stdout.write(
                f"\nQuedan {campaign.pending_count} pendientes tras {len(reports)} días de envío."
            )

    def print_row(self, report: DayReport) -> None:
        for day in report.skipped_days:
            self.stdout.write(f"{'':<5}{day_label(day):<30}  (no se envía: fin de semana o festivo)")
        self.stdout.write(
            f"{report.number:<5}{day_label(report.date):<30}{report.sent_today:>5}"
            f"{report.pending:>12}{report.sent:>11}{report.failed:>10}"
        )

    def print_json(self, report: DayReport) -> None:
        self.stdout.write(to_json(report.as_dict()))
