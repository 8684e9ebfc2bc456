"""``goteo createsuperuser``: Django's command, speaking Spanish to the shop owner.

Django writes its prompts and its "Superuser created successfully." in English, outside
its translation catalog; this command runs Django's own with those lines in Spanish.
goteo comes before django.contrib.auth in the bundled settings, so this one is found first.
"""

from __future__ import annotations

import getpass as system_getpass
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.management.commands import createsuperuser as django_createsuperuser
from django.core.management.base import CommandError, OutputWrapper

from goteo.management.base import GoteoCommand

# Django 5.2's lines (django/contrib/auth/management/commands/createsuperuser.py).
LINES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Superuser created successfully\."), "Administrador creado."),
    (re.compile(r"Error: Your passwords didn't match\."), "Error: las contraseñas no coinciden."),
    (re.compile(r"Error: Blank passwords aren't allowed\."), "Error: la contraseña no puede quedar vacía."),
    (re.compile(r"Error: This field cannot be blank\."), "Error: este dato no puede quedar vacío."),
    (re.compile(r"Error: That (.+) is already taken\."), "Error: ese {0} ya existe."),
    (re.compile(r"You must use --(\S+) with --noinput\."), "Con --noinput hay que indicar --{0}."),
    (re.compile(r"\nOperation cancelled\."), "\nOperación cancelada."),
    (
        re.compile(r"Superuser creation skipped due to not running in a TTY\..*", re.S),
        "No se creó el administrador: hace falta una terminal. Ejecute «goteo createsuperuser» "
        "en una terminal, o use --noinput con DJANGO_SUPERUSER_PASSWORD.",
    ),
    (re.compile(r"(.+) \(leave blank to use '(.*)'\)(.*)", re.S), "{0} (vacío para usar «{1}»){2}"),
    (
        re.compile(r"Bypass password validation and create user anyway\? \[y/N\]: "),
        "¿Crear el usuario de todos modos, sin cumplir esas reglas? [y/N]: ",
    ),
    (re.compile(r"Password \(again\): "), "Contraseña (otra vez): "),
]


def spanish_line(text: str) -> str:
    for pattern, spanish in LINES:
        match = pattern.fullmatch(text)
        if match:
            return spanish.format(*match.groups())
    return text


class SpanishOutput:
    """Wraps a command's OutputWrapper, writing Django's known lines in Spanish."""

    def __init__(self, wrapped: OutputWrapper) -> None:
        self.wrapped = wrapped

    def write(self, msg: str = "", *args: Any, **kwargs: Any) -> None:
        self.wrapped.write(spanish_line(msg), *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


@contextmanager
def spanish_prompts() -> Iterator[None]:
    """Django's module reads ``input`` and ``getpass`` by name: give it Spanish ones."""

    def ask(prompt: str = "") -> str:
        return input(spanish_line(prompt))

    def ask_password(prompt: str = "Contraseña: ") -> str:
        return system_getpass.getpass(spanish_line(prompt))

    module = django_createsuperuser
    module.input = ask  # type: ignore[attr-defined]
    module.getpass = SimpleNamespace(getpass=ask_password)  # type: ignore[assignment]
    try:
        yield
    finally:
        del module.input  # type: ignore[attr-defined]
        module.getpass = system_getpass


class Command(GoteoCommand, django_createsuperuser.Command):
    help = "Crea un usuario administrador del panel."

    def execute(self, *args: Any, **options: Any) -> str | None:
        with spanish_prompts():
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> str | None:
        self.stdout, self.stderr = SpanishOutput(self.stdout), SpanishOutput(self.stderr)  # type: ignore[assignment]
        try:
            return super().handle(*args, **options)
        except CommandError as exc:
            raise CommandError(spanish_line(str(exc)).removeprefix("Error: ")) from None
