"""System checks: SQLite must run in the mode that keeps concurrent sends safe, the host
project's contact source must name a model and fields that exist, and the sending commands
need a migrated database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register
from django.core.management.base import CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor


def sqlite_problems(alias: str = "default") -> list[str]:
    """What is wrong with a SQLite connection's settings, read from the live connection."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return []
    problems = []
    mode = connection.settings_dict.get("OPTIONS", {}).get("transaction_mode")
    if (mode or "").upper() != "IMMEDIATE":
        problems.append(f"transaction_mode es {mode!r}; debe ser 'IMMEDIATE'")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
    if str(journal).lower() not in ("wal", "memory"):
        problems.append(f"journal_mode es {journal!r}; debe ser 'wal'")
    if int(synchronous) != 2:
        problems.append(f"synchronous es {synchronous}; debe ser 2 (FULL)")
    return problems


@register("goteo")
def check_sqlite(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Error]:
    """goteo.E001: SQLite without IMMEDIATE transactions, WAL and synchronous=FULL."""
    return [
        Error(
            f"SQLite no está configurado para envíos seguros: {problem}.",
            hint="Use las OPTIONS de goteo.settings.SQLITE_OPTIONS en DATABASES.",
            id="goteo.E001",
        )
        for problem in sqlite_problems()
    ]


@register("goteo")
def check_contact_source(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Error]:
    """goteo.E002: GOTEO_CONTACT_SOURCE names a key, a model or a field that does not exist."""
    from goteo.contact_source import configured, problems_in

    setting = configured()
    if not setting:
        return []
    return [
        Error(
            problem,
            hint="Vea docs/contacts.md, sección 3 (sincronizar con el sistema de la tienda).",
            id="goteo.E002",
        )
        for problem in problems_in(setting)
    ]


def require_migrated(alias: str = "default") -> None:
    """Refuse to send on a database ``goteo migrate`` has not prepared (or brought up to date).

    Otherwise the first query fails with "no such table", which the worker would report as
    a database that does not answer and retry for ever.
    """
    executor = MigrationExecutor(connections[alias])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        steps = "1 paso pendiente" if len(pending) == 1 else f"{len(pending)} pasos pendientes"
        raise CommandError(
            f"La base de datos no está preparada ({steps}). Ejecute «goteo migrate» y vuelva a intentarlo."
        )
