"""``goteo exclusions``: see, check and remove the numbers on the exclusion lists."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Count, Max
from django.utils.timezone import localtime

from goteo import exclusions
from goteo.management.base import GoteoCommand
from goteo.management.output import counted
from goteo.models import ExcludedPhone
from goteo.phones import InvalidPhone, normalize_phone


class Command(GoteoCommand):
    help = "Muestra las listas de exclusión; con opciones, lista, consulta o quita números."

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--show", action="store_true", help="imprime los números (de --list o de todas)")
        action.add_argument("--check", metavar="TELÉFONO", help="dice si un número está excluido y dónde")
        action.add_argument(
            "--remove", nargs="+", metavar="TELÉFONO", help="quita números (de --list o de todas)"
        )
        action.add_argument("--remove-list", metavar="LISTA", help="borra una lista entera")
        parser.add_argument("--list", dest="list_name", help="limita --show y --remove a esta lista")

    def handle(
        self,
        *args: Any,
        show: bool = False,
        check: str | None = None,
        remove: list[str] | None = None,
        remove_list: str | None = None,
        list_name: str | None = None,
        **options: Any,
    ) -> None:
        if check:
            return self.check_phone(check)
        if remove:
            try:
                n = exclusions.remove_exclusions(remove, list_name)
            except InvalidPhone as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"{counted(n, 'registro quitado', 'registros quitados')}. Los mensajes ya omitidos siguen omitidos."
            )
            return
        if remove_list:
            n = remove_list_named(remove_list)
            self.stdout.write(f"Lista «{remove_list}» borrada ({counted(n, 'número')}).")
            return
        if show:
            entries = ExcludedPhone.objects.all()
            if list_name:
                entries = entries.filter(list_name=list_name)
            for phone, name, note in entries.values_list("phone", "list_name", "note").iterator():
                self.stdout.write(f"{phone}\t{name}" + (f"\t{note}" if note else ""))
            return
        lists = (
            ExcludedPhone.objects.values_list("list_name")
            .annotate(n=Count("id"), last=Max("added_at"))
            .order_by("list_name")
        )
        if not lists:
            self.stdout.write(
                "No hay listas de exclusión. Importe una con: goteo import_exclusions ARCHIVO.csv"
            )
        for name, n, last in lists:
            self.stdout.write(
                f"«{name}»: {counted(n, 'número')} (última importación {localtime(last):%d/%m/%Y %H:%M})"
            )

    def check_phone(self, raw: str) -> None:
        try:
            phone = normalize_phone(raw)
        except InvalidPhone as exc:
            raise CommandError(str(exc)) from None
        entries = list(
            ExcludedPhone.objects.filter(phone=phone).values_list("list_name", "added_at", "source")
        )
        if not entries:
            self.stdout.write(f"{phone}: no está en ninguna lista de exclusión.")
        for name, added_at, source in entries:
            self.stdout.write(
                f"{phone}: excluido en «{name}» desde {localtime(added_at):%d/%m/%Y} ({source or 'sin origen'})."
            )


def remove_list_named(name: str) -> int:
    if not ExcludedPhone.objects.filter(list_name=name).exists():
        raise CommandError(f"No existe la lista «{name}».")
    return exclusions.remove_list(name)
