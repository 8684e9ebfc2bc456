"""``python -m tests.chaos.worker_main run_worker ...``: the real command, with test hooks.

The worker processes of the race and chaos tests start here. It registers the ledger
transport (a sender with ``backend="ledger"`` sends to a LedgerServer), optionally lowers
SQLite's lock timeout (GOTEO_TEST_SQLITE_TIMEOUT) and, for the negative controls, swaps in
the broken piece of the protocol named by GOTEO_BROKEN. With GOTEO_TEST_BARRIER set to a
folder, it says it is ready there and waits for ``go``, so every worker of a race starts
at the same moment however long each took to boot. GOTEO_TEST_PAUSE_SCALE multiplies
every pause between messages (a campaign's delay is whole seconds; the benchmarks want
fractions). Then it runs the command as ``goteo`` would.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goteo.settings")
    from django.conf import settings

    timeout = os.environ.get("GOTEO_TEST_SQLITE_TIMEOUT")
    database = settings.DATABASES["default"]
    if timeout and database["ENGINE"].endswith("sqlite3"):
        database.setdefault("OPTIONS", {})["timeout"] = float(timeout)

    import django

    django.setup()

    from goteo.transports import TRANSPORTS

    TRANSPORTS["ledger"] = "tests.chaos.ledger.LedgerTransport"
    broken = os.environ.get("GOTEO_BROKEN")
    if broken:
        from tests.chaos.broken import apply

        apply(broken)

    scale = float(os.environ.get("GOTEO_TEST_PAUSE_SCALE") or 1)
    if scale != 1:
        import goteo.sending.claim

        whole_seconds = goteo.sending.claim.jittered
        goteo.sending.claim.jittered = lambda delay, rng: whole_seconds(delay, rng) * scale

    barrier = os.environ.get("GOTEO_TEST_BARRIER")
    if barrier:
        (Path(barrier) / f"ready-{os.getpid()}").touch()
        while not (Path(barrier) / "go").exists():
            time.sleep(0.01)

    from django.core.management import execute_from_command_line

    execute_from_command_line(["goteo", *sys.argv[1:]])


if __name__ == "__main__":
    main()
