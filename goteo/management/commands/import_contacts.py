"""``goteo import_contacts FILE.csv``: add or update contacts from a spreadsheet."""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.importing import ImportFileError, import_contacts
from goteo.management.base import GoteoCommand
from goteo.management.output import counted


class Command(GoteoCommand):
    help = (
        "Importa contactos de un CSV con columnas nombre (o nombres y apellidos), teléfono, "
        "consentimiento y opcionalmente etiquetas, fecha de nacimiento y última visita "
        "(31/03/2024 o 2024-03-31); cualquier otra columna se guarda como un dato del contacto."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="ARCHIVO")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"No existe el archivo {file}.")
        try:
            report = import_contacts(file, timezone.now(), source_name=f"csv:{file.name}")
        except ImportFileError as exc:
            raise CommandError(f"{file.name}: {exc} No se importó nada.") from exc
        n = report.imported
        self.stdout.write(
            f"{'Importado' if n == 1 else 'Importados'} {counted(n, 'contacto')} "
            f"({counted(report.created, 'nuevo')}, {counted(report.updated, 'actualizado')})."
        )
        if report.rejected:
            self.stdout.write(f"Filas rechazadas: {len(report.rejected)}")
            for line, reason in report.rejected:
                self.stdout.write(f"  línea {line}: {reason}")
        if report.warnings:
            self.stdout.write(f"Avisos (filas importadas que conviene revisar): {len(report.warnings)}")
            for line, warning in report.warnings:
                self.stdout.write(f"  línea {line}: {warning}")
        if report.repeated:
            lines = ", ".join(f"{line} (igual a la {earlier})" for line, earlier in report.repeated)
            self.stdout.write(
                f"Filas repetidas con el mismo nombre y teléfono, tomadas una vez: línea {lines}"
            )
