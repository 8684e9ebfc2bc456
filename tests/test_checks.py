"""SQLite must run with IMMEDIATE transactions, WAL and synchronous=FULL."""

import pytest
from django.db import connection

from goteo.checks import check_sqlite, sqlite_problems

pytestmark = pytest.mark.django_db


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
