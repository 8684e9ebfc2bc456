"""Every goteo command speaks Spanish when something is wrong: argument mistakes, an
unprepared database, dates written the Colombian way, and createsuperuser's own lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line, load_command_class

import goteo
from goteo.management.base import parse_day, spanish_argparse_message

COMMANDS = sorted(
    p.stem
    for p in (Path(goteo.__file__).parent / "management" / "commands").glob("*.py")
    if p.stem != "__init__"
)
# What each command needs so its arguments parse and it reaches the database.
VALID_ARGS = {
    "api_token": ["ana"],
    "cancel_campaign": ["1", "--yes"],
    "create_automation": [
        *("--name", "N", "--template", "Hola {name}", "--promotion-code", "P", "--trigger", "birthday")
    ],
    "create_campaign": ["--name", "N", "--template", "Hola {name}", "--promotion-code", "P"],
    "createsuperuser": ["--noinput", "--username", "ana", "--email", "ana@example.com"],
    "import_contacts": ["contactos.csv"],
    "import_exclusions": ["rne.csv"],
    "pause_campaign": ["1"],
    "redeem": ["NAVIDAD2026-7K3F9QX2"],
    "requeue_failed": ["1"],
    "resume_campaign": ["1"],
    "start_campaign": ["1", "--yes"],
    "sync_contacts": ["--dry-run"],
    "unbrake": ["principal"],
}
# argparse's own English, which must never reach a shop owner.
ARGPARSE_ENGLISH = re.compile(
    r"usage:|the following|unrecognized|\binvalid\b|\brequired\b|\bexpected\b|choose from|not allowed"
    r"|\bargument\b|fromisoformat|\bvalue\b|Traceback|CommandError"
)


def test_it_covers_every_command():
    assert {"process_campaigns", "campaign_status", "start_campaign", "createsuperuser"} <= set(COMMANDS)
    assert len(COMMANDS) >= 17


@pytest.mark.parametrize("name", [c for c in COMMANDS if c != "demo"])
def test_every_command_asks_for_migrate_on_a_fresh_data_dir(name, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"GOTEO_DATA_DIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env["DJANGO_SUPERUSER_PASSWORD"] = "una-clave-larga"
    result = subprocess.run(
        [sys.executable, "-m", "goteo.cli", name, *VALID_ARGS.get(name, [])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stderr
    assert "Ejecute «goteo migrate»" in result.stderr
    assert result.stderr.startswith("Error: La base de datos no está preparada")
    assert "Traceback" not in result.stderr + result.stdout


def run_cli(capsys, *argv: str) -> str:
    """Run a command as the ``goteo`` script does and return what it printed on stderr."""
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["goteo", *argv])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


# The usual mistakes: an unknown option, a missing argument, a word for a number, a bad
# date, an option without its value, two options that exclude each other, a bad choice.
MISTAKES = [
    *[(name, ["--nope"]) for name in COMMANDS],
    *[(name, []) for name in ("cancel_campaign", "pause_campaign", "requeue_failed", "resume_campaign")],
    ("start_campaign", []),
    ("unbrake", []),
    ("import_contacts", []),
    ("import_exclusions", []),
    ("create_campaign", []),
    ("create_automation", []),
    (
        "create_automation",
        ["--name", "N", "--template", "t", "--promotion-code", "P", "--grace-days", "siete"],
    ),
    ("start_campaign", ["uno"]),
    ("campaign_status", ["uno"]),
    ("process_campaigns", ["--campaign"]),
    ("process_campaigns", ["--campaign", "x"]),
    (
        "create_campaign",
        ["--name", "N", "--template", "t", "--promotion-code", "P", "--valid-until", "2026-31-12"],
    ),
    ("create_campaign", ["--name", "N", "--template", "t", "--template-file", "f", "--promotion-code", "P"]),
    (
        "create_campaign",
        ["--name", "N", "--template", "t", "--promotion-code", "P", "--daily-limit", "veinte"],
    ),
    ("warmup", ["--start", "--off"]),
    ("warmup", ["--since", "ayer"]),
    ("demo", ["--start-date", "2026/01/02"]),
    ("run_worker", ["--threads", "dos"]),
    ("campaign_status", ["--verbosity", "9"]),
]


@pytest.mark.parametrize(("name", "argv"), MISTAKES)
def test_argument_mistakes_read_in_spanish(name, argv, capsys):
    err = run_cli(capsys, name, *argv)
    assert f"goteo {name}: error: " in err
    assert "uso: goteo" in err
    assert ARGPARSE_ENGLISH.search(err) is None, err


def test_the_spanish_names_what_is_wrong(capsys):
    assert "faltan datos obligatorios: CAMPAÑA" in run_cli(capsys, "start_campaign")
    assert "faltan datos obligatorios: NÚMERO" in run_cli(capsys, "unbrake")
    assert "faltan datos obligatorios: ARCHIVO" in run_cli(capsys, "import_contacts")
    assert "no se reconoce: --nope" in run_cli(capsys, "campaign_status", "--nope")
    assert "CAMPAÑA: se esperaba un número entero, no 'uno'" in run_cli(capsys, "start_campaign", "uno")
    assert "--off: no se puede usar junto con --start" in run_cli(capsys, "warmup", "--start", "--off")
    assert "--campaign: falta su valor" in run_cli(capsys, "process_campaigns", "--campaign")
    assert "--since: fecha no válida 'ayer': escríbala como 31/12/2026" in run_cli(
        capsys, "warmup", "--since", "ayer"
    )
    assert "--verbosity: opción no válida 9 (elija entre 0, 1, 2, 3)" in run_cli(
        capsys, "sender_risk", "-v", "9"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_every_argument_without_a_dash_has_a_spanish_name(name):
    """argparse names a positional by its metavar, else by its English ``dest``."""
    parser = load_command_class("goteo", name).create_parser("goteo", name)
    for action in parser._actions:
        if not action.option_strings:
            assert action.metavar in {"CAMPAÑA", "NÚMERO", "ARCHIVO", "CÓDIGO", "USUARIO"}, (
                name,
                action.dest,
            )


def test_called_from_code_a_mistake_is_a_spanish_command_error():
    with pytest.raises(CommandError, match=r"^Error: faltan datos obligatorios: CAMPAÑA$"):
        call_command("start_campaign")


def test_the_help_reads_in_spanish(capsys):
    with pytest.raises(SystemExit):
        execute_from_command_line(["goteo", "process_campaigns", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("uso: goteo process_campaigns")
    assert "opciones:" in out and "muestra esta ayuda y termina" in out
    assert "show this help" not in out and "usage:" not in out


def test_an_unknown_message_is_left_as_it_is():
    assert spanish_argparse_message("something new") == "something new"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("31/12/2026", date(2026, 12, 31)),
        ("2026-12-31", date(2026, 12, 31)),
        (" 5/1/2026 ", date(2026, 1, 5)),
    ],
)
def test_dates_are_taken_as_colombians_write_them(text, day):
    assert parse_day(text) == day


@pytest.mark.django_db(transaction=True)
def test_create_campaign_takes_valid_until_as_31_12_2026(monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    monkeypatch.setenv("WHATSAPP_BACKEND", "memory")
    out = StringIO()
    call_command(
        "create_campaign",
        "--name=Navidad",
        "--template=Hola {name}",
        "--promotion-code=NAVIDAD",
        "--benefit=30%",
        "--valid-until=31/12/2026",
        stdout=out,
        stderr=StringIO(),
    )
    from goteo.models import Campaign

    assert Campaign.objects.get(pk=int(out.getvalue())).promotion.valid_until == date(2026, 12, 31)


@pytest.mark.django_db(transaction=True)
def test_warmup_takes_since_as_05_01_2026(monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "memory")
    out = StringIO()
    call_command("warmup", "--since=05/01/2026", stdout=out)
    assert "en calentamiento desde el 05/01/2026" in out.getvalue()


def create_error(*options: str) -> str:
    with pytest.raises(CommandError) as error:
        call_command(
            "create_campaign",
            "--name=N",
            "--promotion-code=P",
            "--benefit=b",
            "--valid-until=31/12/2099",
            *options,
            stdout=StringIO(),
            stderr=StringIO(),
        )
    return str(error.value)


@pytest.mark.django_db(transaction=True)
def test_create_campaign_names_fields_in_spanish(monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    assert create_error("--template=Hola {apodo}").startswith("plantilla: Marcador no permitido")
    assert create_error("--template=Hola {name}", "--window=19:00-09:00").startswith(
        "fin del horario: La hora final debe ser posterior"
    )


@pytest.mark.django_db(transaction=True)
def test_createsuperuser_says_it_in_spanish(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "una-clave-larga")
    out = StringIO()
    call_command("createsuperuser", "--noinput", "--username=ana", "--email=ana@example.com", stdout=out)
    assert out.getvalue() == "Administrador creado.\n"
    with pytest.raises(CommandError, match=r"^ese nombre de usuario ya existe\.$"):
        call_command("createsuperuser", "--noinput", "--username=ana", "--email=ana@example.com", stdout=out)


def test_createsuperuser_prompts_in_spanish():
    from goteo.management.commands.createsuperuser import spanish_line

    assert (
        spanish_line("Nombre de usuario (leave blank to use 'root'): ")
        == "Nombre de usuario (vacío para usar «root»): "
    )
    assert spanish_line("Password (again): ") == "Contraseña (otra vez): "
