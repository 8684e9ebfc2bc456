"""``goteo sync_contacts [--dry-run]``: bring the host project's people into the contacts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import IntegrityError
from django.utils import timezone

from goteo.contact_source import SourceError, load_source
from goteo.contact_sync import sync_all
from goteo.management.base import GoteoCommand
from goteo.management.output import counted

LISTED = 20  # unreadable phones listed one by one; the rest are counted


class Command(GoteoCommand):
    help = (
        "Crea o actualiza los contactos a partir del modelo del sistema de la tienda que nombra "
        "GOTEO_CONTACT_SOURCE (p. ej. sus pacientes). Nunca deshace una baja. Con --dry-run "
        "solo cuenta lo que haría, sin guardar nada."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="contar lo que cambiaría, sin guardar nada"
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        try:
            source = load_source()
        except SourceError as exc:
            raise CommandError("\n".join(exc.problems)) from exc
        if source is None:
            raise CommandError(
                "GOTEO_CONTACT_SOURCE no está configurado: indique en los ajustes el modelo de la "
                "tienda y sus campos (vea docs/contacts.md)."
            )
        try:
            report = sync_all(timezone.now(), dry_run=dry_run, source=source)
        except IntegrityError:
            # A save in the shop's system linked one of these people at the same moment; the
            # whole sync was undone, and a second run finds that contact already linked.
            raise CommandError(
                "El sistema de la tienda guardó un paciente mientras se sincronizaba; no se cambió "
                "nada. Vuelva a sincronizar."
            ) from None
        head = "Simulación, no se guardó nada" if dry_run else "Sincronizado"
        self.stdout.write(
            f"{head}: {counted(report.read, 'fila')} del sistema de la tienda ({source.label}). "
            f"{counted(report.created, 'contacto nuevo', 'contactos nuevos')}, "
            f"{counted(report.updated, 'actualizado')}, {counted(report.unchanged, 'sin cambios', 'sin cambios')}, "
            f"{counted(len(report.invalid), 'teléfono ilegible', 'teléfonos ilegibles')}."
        )
        if report.withdrawn:
            self.stdout.write(
                f"{counted(report.withdrawn, 'persona retiró', 'personas retiraron')} su consentimiento "
                "en el sistema de la tienda: ya no recibirán promociones."
            )
        for ref, why in report.invalid[:LISTED]:
            self.stdout.write(f"  {ref}: {why}")
        if len(report.invalid) > LISTED:
            self.stdout.write(f"  … y {len(report.invalid) - LISTED} más.")
