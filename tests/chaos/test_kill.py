"""Workers killed with SIGKILL at random moments through a campaign, against a faulty provider.

Four workers (eight with GOTEO_FULL_SIZE=1) send 200 messages (400) from four numbers,
each capped below its share, while the provider throttles, rejects, times out after delivering, answers 500 after
delivering and drops connections; every few hundred milliseconds one worker is killed
and a new one started. Afterwards, as a later worker would, the test sweeps what was
left ``sending``. Then: nobody got two messages, every delivered message is sent or
unknown, nothing is pending without a reason, and no cap was exceeded. The same run with
at-least-once recovery must send duplicates.
"""

import os
import random
import signal
import time

import pytest

from goteo.models import Message, MessageStatus
from tests.chaos.ledger import DROP, ERROR500, REJECT, STALL, THROTTLE, LedgerServer, seeded_plan
from tests.chaos.scenario import (
    broken_promises,
    final_sweep,
    ledger_sender,
    open_campaigns,
    size,
    start_workers,
    wait_all,
    worker_logs,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAULTS = {THROTTLE: 0.08, REJECT: 0.04, DROP: 0.02, STALL: 0.06, ERROR500: 0.05}
SENDERS = 4


def campaign_under_fire(tmp_path, seed: int, broken: str = "") -> tuple[LedgerServer, int]:
    """Run the kill campaign; returns the ledger and how many workers were killed."""
    workers_alive = size(4, 8)
    people = size(200, 400)
    seconds = size(10, 30)
    rng = random.Random(seed)
    with LedgerServer(seeded_plan(seed, FAULTS), latency=0.3, stall_seconds=2.0) as ledger:
        for n in range(SENDERS):
            sender = ledger_sender(
                ledger.url, name=f"numero-{n}", cap=people // SENDERS * 4 // 5, timeout=1.0
            )
            open_campaigns(sender, people // SENDERS)
        workers = start_workers(workers_alive, tmp_path, broken=broken, lease=2)
        kills = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.8))
            alive = [w for w in workers if w.poll() is None]
            if not alive:
                break
            victim = rng.choice(alive)
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            kills += 1
            workers.remove(victim)
            workers += start_workers(1, tmp_path, broken=broken, lease=2)
        codes = wait_all(workers)
        assert set(codes) == {0}, worker_logs(tmp_path)
    final_sweep()
    return ledger, kills


def test_it_keeps_every_promise_while_workers_are_killed(tmp_path):
    ledger, kills = campaign_under_fire(tmp_path, seed=7)
    assert kills >= 3
    assert ledger.modes[STALL] + ledger.modes[ERROR500] + ledger.modes[DROP] > 0
    assert broken_promises(ledger) == []
    statuses = set(Message.objects.values_list("status", flat=True))
    assert MessageStatus.SENDING not in statuses and MessageStatus.SENT in statuses
    assert Message.objects.filter(status=MessageStatus.UNKNOWN).exists()
    assert Message.objects.filter(status=MessageStatus.PENDING).exists()  # the caps held them


def test_it_catches_at_least_once_recovery(tmp_path):
    ledger, _kills = campaign_under_fire(tmp_path, seed=7, broken="at_least_once")
    problems = broken_promises(ledger)
    assert any(p.startswith("never twice") for p in problems), problems
