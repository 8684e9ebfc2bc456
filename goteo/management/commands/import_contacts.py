"""``goteo import_contacts FILE.csv``: add or update contacts from a spreadsheet."""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from goteo.importing import ImportFileError, import_contacts
from goteo.management.base import GoteoCommand
from goteo.management.output import counted


class Command(GoteoCommand):
    help = "Importa contactos de un CSV con columnas name, phone, consent y opcionalmente tags."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
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
