"""``run_worker --processes N``: the copies share the numbers, stop once per signal, come back
when they die, and stop when their supervisor is gone."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from django.core.management import CommandError, call_command

from goteo.models import Message, MessageStatus, Sender, WorkerHeartbeat
from goteo.supervisor import launcher, parse_shard, shard_of
from goteo.worker import Worker
from tests.chaos.ledger import LedgerServer
from tests.chaos.scenario import (
    broken_promises,
    final_sweep,
    ledger_sender,
    open_campaigns,
    start_workers,
    wait_all,
)
from tests.processes import wait_for

pytestmark = pytest.mark.usefixtures("no_legal_hours")


def numbers(ledger: LedgerServer, count: int, people: int) -> list[Sender]:
    senders = [ledger_sender(ledger.url, name=f"numero-{n}", timeout=10) for n in range(count)]
    for sender in senders:
        open_campaigns(sender, people)
    return senders


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_numbers_and_send_each_message_once(tmp_path):
    with LedgerServer(latency=0.02) as ledger:
        senders = numbers(ledger, 4, 6)
        (supervisor,) = start_workers(1, tmp_path, args=("--processes", "2"))
        assert wait_all([supervisor]) == [0]
    assert ledger.total() == 24 and not ledger.duplicates()
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 24
    drivers = {}
    for sender in senders:
        claimed_by = set(Message.objects.filter(campaign__sender=sender).values_list("claimed_by", flat=True))
        assert len(claimed_by) == 1, claimed_by  # one process drove each number
        drivers[sender.pk] = claimed_by.pop()
    by_shard = {shard_of(pk, 2): set() for pk in drivers}
    for pk, driver in drivers.items():
        by_shard[shard_of(pk, 2)].add(driver)
    assert all(len(names) == 1 for names in by_shard.values())  # a shard is one process
    assert len(set(drivers.values())) == 2
    beats = WorkerHeartbeat.objects.all()
    assert len(beats) == 2 and all(beat.stopped_at is not None for beat in beats)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_stop_signal_reaches_each_process_once_so_what_is_in_flight_is_recorded(tmp_path):
    with LedgerServer(latency=1.0) as ledger:
        numbers(ledger, 2, 4)
        (supervisor,) = start_workers(1, tmp_path, args=("--processes", "2"))
        wait_for(lambda: ledger.total() >= 2, timeout=60)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0  # a second signal would have made it 143
    assert not ledger.duplicates()
    assert Message.objects.filter(status__in=[MessageStatus.SENDING, MessageStatus.UNKNOWN]).count() == 0
    assert Message.objects.filter(status=MessageStatus.SENT).count() == ledger.total()
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == 8 - ledger.total() > 0
    assert all(beat.stopped_at is not None for beat in WorkerHeartbeat.objects.all())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_process_that_dies_is_started_again_and_the_work_completes(tmp_path):
    with LedgerServer(latency=0.3) as ledger:
        numbers(ledger, 2, 8)
        (supervisor,) = start_workers(
            1, tmp_path, lease=2, args=("--processes", "2"), GOTEO_WORKER_RESTART_SECONDS="1"
        )
        wait_for(lambda: WorkerHeartbeat.objects.count() == 2 and ledger.total() >= 2, timeout=60)
        victim = WorkerHeartbeat.objects.order_by("pid").first()
        os.kill(victim.pid, signal.SIGKILL)
        assert wait_all([supervisor]) == [0]
        final_sweep()
        assert broken_promises(ledger) == []
    assert WorkerHeartbeat.objects.count() == 3  # the two copies, and the one started again
    assert WorkerHeartbeat.objects.get(pid=victim.pid).stopped_at is None  # it never said goodbye
    finished = Message.objects.filter(status__in=[MessageStatus.SENT, MessageStatus.UNKNOWN]).count()
    assert finished == 16  # at most the message in flight at the kill is unknown, never sent twice


# --- in one process ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_shard_drives_only_its_numbers(clock):
    senders = [Sender.objects.create(name=f"numero-{n}", backend="memory", daily_cap=100) for n in range(4)]
    for sender in senders:
        open_campaigns(sender, 2)
    worker = Worker(clock, threads=0, exit_when_idle=True, shard=(1, 2))
    assert worker.run() == 0
    for sender in senders:
        sent = Message.objects.filter(campaign__sender=sender, status=MessageStatus.SENT).count()
        assert sent == (2 if shard_of(sender.pk, 2) == 1 else 0), sender.pk


@pytest.mark.django_db(transaction=True)
def test_a_copy_stops_by_itself_when_its_supervisor_is_gone(make_campaign, clock):
    make_campaign(3)
    lines: list[str] = []
    worker = Worker(clock, threads=0, report=lines.append, parent_pid=os.getppid() + 1)
    assert worker.run() == 0
    assert any("supervisor ya no está" in line for line in lines)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 0


def test_the_copies_start_the_way_the_supervisor_was_started(monkeypatch):
    monkeypatch.setattr(
        sys,
        "orig_argv",
        ["/usr/bin/python3", "-X", "dev", "-m", "tests.chaos.worker_main", "run_worker", "--processes", "2"],
    )
    monkeypatch.setattr(sys, "argv", ["/repo/tests/chaos/worker_main.py", "run_worker", "--processes", "2"])
    assert launcher() == ["/usr/bin/python3", "-X", "dev", "-m", "tests.chaos.worker_main"]
    monkeypatch.setattr(sys, "orig_argv", ["/usr/bin/python3", "/venv/bin/goteo", "run_worker"])
    monkeypatch.setattr(sys, "argv", ["/venv/bin/goteo", "run_worker"])
    assert launcher() == ["/usr/bin/python3", "/venv/bin/goteo"]


def test_a_shard_is_an_index_below_the_count():
    assert parse_shard("1/4") == (1, 4)
    for wrong in ["4/4", "-1/2", "a/2", "2"]:
        with pytest.raises(ValueError):
            parse_shard(wrong)


def test_it_refuses_fewer_than_one_process():
    with pytest.raises(CommandError, match="--processes"):
        call_command("run_worker", processes=0)
