"""``goteo demo``: demo patients, the DEMO-NAVIDAD promotion and its campaign.

It refuses to run in a database that holds a shop's own data. If whoever reads its output
stops reading (``| head -3``), it finishes the demo quietly, so nothing is left half done.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.conf import env_str
from goteo.demo import DayReport, ShopDataFound, create_demo, simulate
from goteo.management.base import GoteoCommand, parse_day
from goteo.management.output import counted, summary_card, to_json
from goteo.management.pipes import PipeOutput
from goteo.schedule import SPANISH_MONTHS, SPANISH_WEEKDAYS
from goteo.status import campaign_summary

SEED_START = date(2026, 1, 2)  # a Friday, as in the seed's walk-through


def day_label(day: date) -> str:
    return f"{SPANISH_WEEKDAYS[day.weekday()].capitalize()} {day.day} {SPANISH_MONTHS[day.month - 1].capitalize()} {day.year}"


class Command(GoteoCommand):
    needs_migrated_database = False  # it prepares the database itself
    help = (
        "Crea 100 pacientes de demostración y la campaña DEMO-NAVIDAD en una base de datos sin datos "
        "propios; opcionalmente simula los días de envío."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--simulate-days",
            type=int,
            default=0,
            metavar="N",
            help="simula N días de envío (desde un viernes) y muestra la tabla día por día",
        )
        parser.add_argument(
            "--start-date",
            type=parse_day,
            default=SEED_START,
            help="primer día de la simulación (por defecto el viernes 2026-01-02)",
        )
        parser.add_argument("--patients", type=int, default=100)
        parser.add_argument(
            "--json",
            action="store_true",
            help="una línea JSON por día simulado (o con el resumen, sin simular)",
        )

    def handle(
        self, *args: Any, simulate_days: int, start_date: date, patients: int, json: bool, **options: Any
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        out = self.out = PipeOutput(self.stdout)
        tz = timezone.get_default_timezone()
        simulated = simulate_days > 0
        start = datetime.combine(start_date, time(9, 0), tzinfo=tz) if simulated else timezone.now()
        try:
            campaign = create_demo(start, patients)
        except ShopDataFound as exc:
            raise CommandError(refusal(str(exc))) from None
        if simulate_days <= 0:
            summary = campaign_summary(campaign, timezone.now())
            if json:
                out.write(to_json(summary))
                return
            out.write(
                f"Demo creada: {counted(campaign.total_count, 'paciente')}, campaña #{campaign.pk} '{campaign.name}'."
            )
            out.write(summary_card(summary))
            out.write(
                "\n🧪 Es una simulación: el número de la demo está en modo de prueba y nada sale por WhatsApp."
                "\nEnvíe lo permitido ahora (se imprime en consola) con: goteo process_campaigns"
                "\nO simule una semana con: goteo demo --simulate-days 5"
            )
            return
        if not json:
            out.write(
                f"Base de datos: {counted(campaign.total_count, 'paciente')} · Límite diario: {counted(campaign.daily_limit, 'mensaje')}\n"
                "Se ejecuta process_campaigns cada día de envío a las 10:00.\n"
                "🧪 Simulación: nada sale por WhatsApp; «SIMULADOS» son los que habrían salido.\n"
            )
            out.write(f"{'DÍA':<5}{'FECHA':<30}{'HOY':>5}{'PENDIENTES':>12}{'SIMULADOS':>11}{'FALLIDOS':>10}")
        reports = simulate(campaign, start, simulate_days, on_day=self.print_json if json else self.print_row)
        if json:
            return
        campaign.refresh_from_db()
        if campaign.pending_count == 0:
            out.write(
                f"\n🎉 CAMPAÑA COMPLETADA en {counted(len(reports), 'día')} de envío: {counted(campaign.simulated_count, 'simulado')}."
            )
        else:
            out.write(
                f"\nQuedan {counted(campaign.pending_count, 'pendiente')} tras {counted(len(reports), 'día')} de envío."
            )

    def print_row(self, report: DayReport) -> None:
        for day in report.skipped_days:
            self.out.write(f"{'':<5}{day_label(day):<30}  (no se envía: fin de semana o festivo)")
        self.out.write(
            f"{report.number:<5}{day_label(report.date):<30}{report.sent_today:>5}"
            f"{report.pending:>12}{report.sent:>11}{report.failed:>10}"
        )

    def print_json(self, report: DayReport) -> None:
        self.out.write(to_json(report.as_dict()))


def refusal(found: str) -> str:
    """Why the demo will not run here, and how to see it elsewhere."""
    data_dir = getattr(settings, "DATA_DIR", None)
    folder = f"{data_dir}-demo" if data_dir else "~/goteo-demo"
    where = "Esta base de datos"
    if env_str("DATABASE_URL"):
        where = "La base de datos de DATABASE_URL"
        how = f"quite DATABASE_URL y use una carpeta aparte: GOTEO_DATA_DIR={folder} goteo demo --simulate-days 5"
    else:
        how = f"use una carpeta de datos aparte: GOTEO_DATA_DIR={folder} goteo demo --simulate-days 5"
    return (
        f"{where} ya tiene datos de su negocio ({found}); la demostración no los toca ni se mezcla "
        f"con ellos, así que no se creó nada. Para ver la demostración, {how}"
    )
