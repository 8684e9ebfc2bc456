"""SQLite must run with IMMEDIATE transactions, WAL and synchronous=FULL; sending needs a migrated database."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from goteo.checks import check_sqlite, require_migrated, sqlite_problems

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_it_reads_the_pragmas_from_a_live_connection():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2
    assert sqlite_problems() == []
    assert check_sqlite() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_it_fails_without_the_safe_settings(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", {"transaction_mode": "DEFERRED"})
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        errors = check_sqlite()
        messages = " ".join(e.msg for e in errors)
        assert {e.id for e in errors} == {"goteo.E001"}
        assert "transaction_mode" in messages and "synchronous es 1" in messages
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")


@pytest.mark.skipif("connection.vendor == 'sqlite'")
def test_it_has_nothing_to_say_about_postgresql():
    assert sqlite_problems() == []


def test_a_migrated_database_may_send():
    require_migrated()  # the test database is fully migrated: nothing raised


@pytest.mark.parametrize("command", ["process_campaigns", "run_worker"])
def test_the_sending_commands_refuse_a_database_with_unapplied_migrations(command, monkeypatch):
    recorder = MigrationRecorder(connection)
    latest = recorder.applied_migrations()
    last = max(key for key in latest if key[0] == "goteo")
    monkeypatch.setattr(
        MigrationRecorder, "applied_migrations", lambda self: {k: v for k, v in latest.items() if k != last}
    )
    with pytest.raises(
        CommandError, match=r"no está preparada \(1 paso pendiente\)\. Ejecute «goteo migrate»"
    ) as refused:
        call_command(command)
    assert last[1] not in str(refused.value)  # no migration names for the shop owner
