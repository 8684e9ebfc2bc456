"""The base of goteo's commands: Spanish argument errors and a migrated database.

A shop owner types these commands; argparse's own messages ("the following arguments are
required", "invalid int value") and a traceback on an unprepared database are not for them.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from goteo.checks import require_migrated
from goteo.management.pipes import silence

# argparse's messages (CPython 3.11-3.13 Lib/argparse.py) and their Spanish. Each pattern is
# the whole message, so a message not listed stays as it is rather than half translated.
ARGPARSE_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"the following arguments are required: (.+)"), "faltan datos obligatorios: {0}"),
    (re.compile(r"unrecognized arguments: (.+)"), "no se reconoce: {0}"),
    (re.compile(r"one of the arguments (.+) is required"), "indique una de estas opciones: {0}"),
    (re.compile(r"argument (\S+): (.+)", re.S), "{0}: {1}"),
    (re.compile(r"invalid choice: (.+?) \(choose from (.+)\)"), "opción no válida {0} (elija entre {1})"),
    (re.compile(r"invalid int value: (.+)"), "se esperaba un número entero, no {0}"),
    (re.compile(r"invalid float value: (.+)"), "se esperaba un número, no {0}"),
    (re.compile(r"invalid \S+ value: (.+)"), "valor no válido {0}"),
    (re.compile(r"expected one argument"), "falta su valor"),
    (re.compile(r"expected at most one argument"), "admite un solo valor"),
    (re.compile(r"expected at least one argument"), "falta al menos un valor"),
    (re.compile(r"expected (\d+) arguments?"), "se esperaban {0} valores"),
    (re.compile(r"not allowed with argument (.+)"), "no se puede usar junto con {0}"),
    (re.compile(r"ignored explicit argument (.+)"), "no admite el valor {0}"),
    (re.compile(r"ambiguous option: (\S+) could match (.+)"), "opción ambigua {0}: puede ser {1}"),
]

# The help of the options every Django command has, and argparse's headings.
HELP_TEXT = {
    "help": "muestra esta ayuda y termina",
    "version": "muestra la versión y termina",
    "verbosity": "cuánto detalle imprimir: 0 poco, 1 normal, 2 y 3 más",
    "settings": "módulo de configuración de Python (por defecto, el de goteo)",
    "pythonpath": "carpeta que se añade a la ruta de Python",
    "traceback": "muestra el detalle técnico de un error",
    "no_color": "sin colores",
    "force_color": "con colores aunque no sea una terminal",
    "skip_checks": "no hace las comprobaciones del sistema",
}
HEADINGS = {"usage: ": "uso: ", "positional arguments:": "argumentos:", "options:": "opciones:"}


def spanish_argparse_message(message: str) -> str:
    """argparse's English error message in Spanish (unknown ones are returned as they are)."""
    for pattern, spanish in ARGPARSE_MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return spanish.format(*(spanish_argparse_message(g) for g in match.groups()))
    return message


class SpanishParser(CommandParser):
    """A command's parser whose errors, usage and help read in Spanish."""

    def error(self, message: str) -> NoReturn:
        message = spanish_argparse_message(message)
        if not self.called_from_command_line:
            raise CommandError(f"Error: {message}")
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nVea la ayuda con: {self.prog} --help\n")

    def format_usage(self) -> str:
        return spanish_headings(super().format_usage())

    def format_help(self) -> str:
        return spanish_headings(super().format_help())


def spanish_headings(text: str) -> str:
    for english, spanish in HEADINGS.items():
        text = text.replace(english, spanish)
    return text


class GoteoCommand(BaseCommand):
    """Every goteo command: Spanish parser, a clear message on an unmigrated database, and a
    quiet end when the reader of its output leaves (``goteo campaign_status | head -3``).

    ``needs_migrated_database`` is False for a command that prepares the database itself.
    """

    needs_migrated_database = True

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a CommandParser with no way to choose the class; SpanishParser only
        # overrides methods, so the built parser takes it on as it is.
        parser.__class__ = SpanishParser
        for action in parser._actions:
            if action.dest in HELP_TEXT:
                action.help = HELP_TEXT[action.dest]
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            if self.needs_migrated_database:
                require_migrated()
            result = super().execute(*args, **options)
            # Output still buffered would fail at exit, outside this handler.
            self.stdout.flush()
            return result
        except BrokenPipeError:
            # The reader (``head``) has what it wanted; what the command did stays done.
            if not getattr(self, "_called_from_command_line", False):
                raise
            silence(self.stdout)
            return None
        except CommandError as exc:
            # Django prints "CommandError: ..." on the console; a person reads "Error: ...".
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            self.stderr.write(f"Error: {str(exc).removeprefix('Error: ')}")
            sys.exit(exc.returncode)


def parse_day(text: str) -> date:
    """A day written 31/12/2026 or 2026-12-31 (argparse ``type=``)."""
    text = text.strip()
    for form in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"fecha no válida {text!r}: escríbala como 31/12/2026")
