"""Eight ``run_worker`` processes racing on 400 messages: never twice, caps exact.

A fake provider on 127.0.0.1 counts what each phone receives. Each race also runs with a
deliberately broken claim, and the same checks must catch it.
"""

import pytest

from goteo.models import Campaign, DailyCounter, Message, MessageStatus
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

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_legal_hours"),
    pytest.mark.slow,
]

WORKERS = 8
MESSAGES = 400


def race(tmp_path, ledger, broken=""):
    workers = start_workers(WORKERS, tmp_path, broken=broken)
    codes = wait_all(workers)
    assert codes == [0] * WORKERS, worker_logs(tmp_path)
    final_sweep()


def test_it_sends_each_phone_at_most_once_with_eight_workers(tmp_path):
    with LedgerServer() as ledger:
        open_campaigns(ledger_sender(ledger.url), MESSAGES, campaigns=2)
        race(tmp_path, ledger)
    assert broken_promises(ledger) == []
    assert ledger.total() == MESSAGES == len(ledger.deliveries)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == MESSAGES
    assert set(Campaign.objects.values_list("status", flat=True)) == {"completed"}


def test_it_catches_a_naive_claim(tmp_path):
    with LedgerServer() as ledger:
        open_campaigns(ledger_sender(ledger.url), MESSAGES, campaigns=2)
        race(tmp_path, ledger, broken="naive_claim")
    problems = broken_promises(ledger)
    assert any(p.startswith("never twice") for p in problems), problems


def test_it_keeps_the_caps_exact_with_eight_workers(tmp_path):
    with LedgerServer() as ledger:
        sender = ledger_sender(ledger.url, cap=100)
        first, second = open_campaigns(sender, MESSAGES, campaigns=2, limit=60)
        race(tmp_path, ledger)
    assert broken_promises(ledger) == []
    assert ledger.total() == 100 == len(ledger.deliveries)
    day = sender.local_day(Message.objects.filter(status="sent").first().sent_at)
    assert DailyCounter.used_on(sender.counter_scope, day) == 100
    per_campaign = [DailyCounter.used_on(c.counter_scope, day) for c in (first, second)]
    assert sorted(per_campaign) == [40, 60]
    assert [c.sent_count for c in Campaign.objects.order_by("id")] == per_campaign
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == MESSAGES - 100


def test_it_catches_a_cap_checked_by_counting(tmp_path):
    with LedgerServer() as ledger:
        sender = ledger_sender(ledger.url, cap=100)
        open_campaigns(sender, MESSAGES, campaigns=2)
        race(tmp_path, ledger, broken="count_then_claim")
    problems = broken_promises(ledger)
    assert any(p.startswith("cap:") for p in problems), problems
