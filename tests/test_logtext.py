"""The console a shop owner reads shows goteo's log lines in Spanish; the records stay English."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

import goteo
from goteo.logtext import SPANISH, ConsoleFormatter
from goteo.sending import Engine
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport

LOG_METHODS = {"warning", "error", "exception", "critical", "info"}
# The transports' lines are written in Spanish in the first place.
WRITTEN_IN_SPANISH = {
    "Cloud API a %s: %s",
    "Twilio a %s: %s",
    "Evolution a %s: %s",
    "WAHA a %s: %s",
    "WAHA: no se pudo mostrar que se escribe: %s",
    "WAHA: no se pudo dejar de escribir: %s",
    "WAHA: consulta de id oculto rechazada (HTTP %s)",
    "WAHA: consulta de id oculto sin respuesta: %s",
    "WAHA: no se guardó el id oculto de %s: %s",
}


def console_formatter() -> logging.Formatter:
    """The formatter of the console handler goteo.settings gives the ``goteo`` logger."""
    (handler,) = logging.getLogger("goteo").handlers
    assert handler.formatter is not None
    return handler.formatter


def test_the_console_handler_uses_the_spanish_formatter():
    assert isinstance(console_formatter(), ConsoleFormatter)


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_reads_in_spanish_on_the_console(make_campaign, clock, caplog):
    campaign = make_campaign(1)

    def reject(message):
        raise SendError(SendError.PERMANENT, "rechazado")

    MemoryTransport.script = reject
    with caplog.at_level(logging.WARNING, logger="goteo"):
        Engine(clock).run([campaign.pk])
    (record,) = [r for r in caplog.records if r.name == "goteo.engine"]
    assert record.getMessage().startswith("send to ")  # structured handlers keep the English
    line = console_formatter().format(record)
    assert " aviso: el envío a " in line
    assert "falló (permanente): rechazado" in line
    assert "failed" not in line and "WARNING" not in line


def log_messages() -> list[tuple[str, str]]:
    """Every literal message goteo passes to a logger, with its file."""
    found = []
    for path in Path(goteo.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
                and isinstance(node.func.value, ast.Name | ast.Attribute)
                and getattr(node.func.value, "id", getattr(node.func.value, "attr", "")) in ("log", "logger")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((str(path), node.args[0].value))
    return found


def test_every_english_log_message_has_its_spanish():
    messages = log_messages()
    assert len(messages) > 20  # the scan finds them
    english = [(path, m) for path, m in messages if m not in SPANISH and m not in WRITTEN_IN_SPANISH]
    assert english == []
