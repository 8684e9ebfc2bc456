"""``goteo import_exclusions FILE.csv``: numbers that must never be messaged (e.g. the RNE)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.exclusions import DEFAULT_LIST, import_exclusions
from goteo.importing import ImportFileError
from goteo.management.base import GoteoCommand
from goteo.management.output import counted


class Command(GoteoCommand):
    help = (
        "Importa una lista de exclusión (p. ej. el Registro de Números Excluidos) de un CSV con una "
        "columna de teléfonos, o un número por línea. Esos números no reciben ninguna promoción."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="ARCHIVO")
        parser.add_argument(
            "--list",
            dest="list_name",
            default=DEFAULT_LIST,
            help=f"nombre de la lista (por defecto {DEFAULT_LIST})",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="la lista queda igual al archivo: se quitan los números que ya no aparecen",
        )

    def handle(self, *args: Any, file: Path, list_name: str, replace: bool, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"No existe el archivo {file}.")
        try:
            report = import_exclusions(
                file, timezone.now(), list_name=list_name, source_name=f"csv:{file.name}", replace=replace
            )
        except ImportFileError as exc:
            raise CommandError(f"{file.name}: {exc} No se importó nada.") from exc
        line = (
            f"Lista «{list_name}»: {counted(report.added, 'número nuevo', 'números nuevos')}, "
            f"{report.already} ya {'estaba' if report.already == 1 else 'estaban'}"
        )
        if report.repeated:
            line += f", {counted(report.repeated, 'repetido')} en el archivo"
        if replace:
            line += f", {report.removed} quitados por no estar en el archivo"
        self.stdout.write(line + ".")
        if report.skipped_messages:
            self.stdout.write(
                f"Se omitieron {counted(report.skipped_messages, 'mensaje pendiente', 'mensajes pendientes')} "
                "a esos números en campañas en curso."
            )
        if report.rejected:
            self.stdout.write(f"Filas rechazadas: {len(report.rejected)}")
            for number, reason in report.rejected:
                self.stdout.write(f"  línea {number}: {reason}")
