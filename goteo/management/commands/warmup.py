"""``goteo warmup [NÚMERO]``: mark a WhatsApp number as new so its daily cap ramps up."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.management.base import GoteoCommand, parse_day
from goteo.models import Sender
from goteo.warmup import STAGE_DAYS, warmup_ends_on, warmup_schedule


class Command(GoteoCommand):
    help = (
        "Marca un número como nuevo: su máximo diario sube semana a semana (5, 10, 20 y luego su "
        "máximo). Sin opciones muestra el plan."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "sender", nargs="?", metavar="NÚMERO", help="nombre del número (por defecto, el del entorno)"
        )
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--start", action="store_true", help="empieza el calentamiento hoy")
        when.add_argument("--since", type=parse_day, help="empezó ese día (DD/MM/AAAA)")
        when.add_argument(
            "--off", action="store_true", help="el número ya tiene historial: sin calentamiento"
        )

    def handle(
        self,
        *args: Any,
        sender: str | None = None,
        start: bool = False,
        since: date | None = None,
        off: bool = False,
        **options: Any,
    ) -> None:
        number = self.find(sender)
        today = number.local_day(timezone.now())
        if start or since or off:
            number.warmup_started_on = None if off else (since or today)
            number.save(update_fields=["warmup_started_on"])
        self.stdout.write(describe_plan(number, today))

    def find(self, name: str | None) -> Sender:
        if not name:
            return Sender.get_default()
        try:
            return Sender.objects.get(name=name)
        except Sender.DoesNotExist:
            raise CommandError(f"No existe el número {name!r}.") from None


def describe_plan(sender: Sender, today: date) -> str:
    """The number's warm-up plan, week by week, in Spanish."""
    started = sender.warmup_started_on
    if started is None:
        return f"{sender.name}: sin calentamiento; máximo {sender.daily_cap} al día."
    schedule = warmup_schedule()
    lines = [f"{sender.name}: en calentamiento desde el {started:%d/%m/%Y}."]
    for week, cap in enumerate(schedule):
        first = started + timedelta(days=week * STAGE_DAYS)
        last = first + timedelta(days=STAGE_DAYS - 1)
        mark = " ← hoy" if first <= today <= last else ""
        lines.append(
            f"  Semana {week + 1}: máximo {min(cap, sender.daily_cap)} al día "
            f"({first:%d/%m} a {last:%d/%m}){mark}"
        )
    full = warmup_ends_on(started, schedule)
    mark = " ← hoy" if today >= full else ""
    lines.append(f"  Desde el {full:%d/%m/%Y}: su máximo de {sender.daily_cap} al día{mark}")
    return "\n".join(lines)
