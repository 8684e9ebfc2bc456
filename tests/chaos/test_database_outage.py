"""The database goes away in the middle of a run: the worker waits, reconnects and goes on.

On PostgreSQL the test terminates the worker's server connections, twice (what a
restart does to them, without disturbing other test runs sharing the server). On SQLite
it holds the write lock for longer than the worker's lock timeout. Either way the worker
must not die, must not send anyone twice, and must finish the campaign.
"""

import sqlite3
import time

import pytest
from django.db import connection

from goteo.models import Message, MessageStatus, WorkerHeartbeat
from tests.chaos.ledger import LedgerServer
from tests.chaos.scenario import (
    broken_promises,
    final_sweep,
    ledger_sender,
    open_campaigns,
    start_workers,
    wait_all,
    worker_logs,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PEOPLE = 60


def wait_for_deliveries(ledger: LedgerServer, n: int) -> None:
    deadline = time.monotonic() + 60
    while ledger.total() < n:
        assert time.monotonic() < deadline, "the worker stopped sending"
        time.sleep(0.05)


def cut_connections() -> int:
    """Terminate every other connection to this database, as a server restart would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def hold_write_lock(seconds: float) -> None:
    """Take SQLite's write lock from another connection and keep it for ``seconds``."""
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=30, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        other.execute("COMMIT")
    finally:
        other.close()


def test_it_survives_the_database_going_away_mid_run(tmp_path):
    with LedgerServer(latency=0.05) as ledger:
        open_campaigns(ledger_sender(ledger.url), PEOPLE)
        (worker,) = start_workers(1, tmp_path, GOTEO_TEST_SQLITE_TIMEOUT="0.5")
        for delivered in (15, 30):
            wait_for_deliveries(ledger, delivered)
            if connection.vendor == "postgresql":
                assert cut_connections() >= 1
            else:
                hold_write_lock(2.0)
            assert worker.poll() is None, worker_logs(tmp_path)
        assert wait_all([worker]) == [0], worker_logs(tmp_path)
    final_sweep()
    assert broken_promises(ledger) == []
    assert ledger.total() == PEOPLE == len(ledger.deliveries)
    statuses = set(Message.objects.values_list("status", flat=True))
    assert statuses <= {MessageStatus.SENT, MessageStatus.UNKNOWN}
    assert WorkerHeartbeat.objects.get().stopped_at is not None
