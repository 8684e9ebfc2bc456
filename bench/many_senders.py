"""d. 100 numbers x 20 messages each, 0.2 s apart, through a provider answering in 50 ms.

    python bench/many_senders.py [--db sqlite|postgres] [--size 100] [--threads 48] [--processes 1]

The provider is the ledger fake (tests/chaos/ledger.py) in its own process, reached over
HTTP on 127.0.0.1 through goteo's real HTTP client. One ``run_worker`` (the Worker class,
in this process) drives every number at once. A campaign's delay is whole seconds, so the
bench sets 1 s and scales each pause by 0.2 (jitter included). The ideal is 20 x (0.2 s +
0.05 s) = 5 s; the target is at most 1.3 times that.

Each thread waits out its message's 50 ms answer, so 2,000 messages keep 16 threads busy
for at least 2,000 x 0.05 / 16 = 6.25 s: 16 threads cannot meet the target whatever the
rest costs. Under this load a step (claim, send, record) takes 80 to 100 ms, a little more
on PostgreSQL, whose answers come over a socket: 400 messages a second need 32 to 40 steps
at a time, and the bench runs 48 threads (``--threads``). The worker tunes the garbage collector
as ``run_worker`` does. ``cpu_s`` is the processor time the worker's process spent (the
GIL holds it to one core), which varies less than the wall time on a shared machine.

``--processes N`` runs the real ``goteo run_worker --processes N`` instead, each copy with
threads/N threads, timed from the first copy's start (after Python and Django have
loaded, as in one process) to the supervisor's exit; its ``cpu_s`` adds up the copies.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import urllib.request

from common import ROOT, Stopwatch, all_day_campaign, arguments, database, report

PER_SENDER, DELAY, ANSWER = 20, 0.2, 0.05
IDEAL = PER_SENDER * (DELAY + ANSWER)
TARGET = 1.3 * IDEAL


def option(name: str, default: int) -> int:
    """An integer option of this benchmark only, taken out of sys.argv."""
    if name not in sys.argv:
        return default
    at = sys.argv.index(name)
    value = int(sys.argv[at + 1])
    del sys.argv[at : at + 2]
    return value


def main() -> None:
    threads = option("--threads", 48)
    processes = option("--processes", 1)
    args = arguments(__doc__.splitlines()[0], size=100)
    provider = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.ledger", "--latency", str(ANSWER)],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert provider.stdout is not None
        url = provider.stdout.readline().strip()
        with database(args.db, args.keep):
            prepare(url, args.size)
            if processes > 1:
                measured, cpu = run_processes(processes, threads)
            else:
                measured, cpu = run(threads)
        with urllib.request.urlopen(f"{url}/ledger") as answer:
            ledger = json.load(answer)["deliveries"]
    finally:
        provider.terminate()
    assert len(ledger) == args.size * PER_SENDER and set(ledger.values()) == {1}, "duplicates or losses"
    report(
        f"d. {args.size} números x {PER_SENDER} mensajes",
        args.db,
        measured,
        "s",
        f"<= {TARGET:.1f} s (ideal {IDEAL:.0f} s)",
        measured <= TARGET,
        threads=threads,
        processes=processes,
        cpu_s=round(cpu, 2),
    )


def prepare(url: str, senders: int) -> None:
    """``senders`` numbers of the ledger provider, each with a launched campaign of PER_SENDER."""
    from django.utils import timezone

    from goteo.launch import campaign_launch
    from goteo.models import Contact, Sender, Tag

    for n in range(senders):
        sender = Sender.objects.create(
            name=f"numero-{n}", backend="ledger", daily_cap=PER_SENDER, config={"base_url": url}
        )
        tag = Tag.objects.create(name=f"grupo-{n}")
        people = Contact.objects.bulk_create(
            Contact(full_name=f"Persona {n}-{i}", phone=f"+5731{n:03d}{i:05d}", consent=True)
            for i in range(PER_SENDER)
        )
        tag.contacts.add(*people)
        campaign = all_day_campaign(sender, name=f"campaña {n}", delay=1, audience=f"tag:{tag.name}")
        campaign_launch(campaign, timezone.now())


def run(threads: int) -> tuple[float, float]:
    """The worker's wall time and processor time to send everything, in this process."""
    import goteo.sending.claim
    from goteo.collector import tune_collector
    from goteo.models import Message
    from goteo.transports import TRANSPORTS
    from goteo.worker import Worker

    TRANSPORTS["ledger"] = "tests.chaos.ledger.LedgerTransport"
    whole_seconds = goteo.sending.claim.jittered
    goteo.sending.claim.jittered = lambda delay, rng: whole_seconds(delay, rng) * DELAY
    worker = Worker(threads=threads, heartbeat_seconds=5, exit_when_idle=True)
    tune_collector()  # as run_worker does
    before = resource.getrusage(resource.RUSAGE_SELF)
    with Stopwatch() as watch:
        worker.run()
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert Message.objects.filter(status="sent").count() == Message.objects.count()
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return watch.seconds, cpu


def run_processes(processes: int, threads: int) -> tuple[float, float]:
    """The same with ``run_worker --processes``: from the first copy's start to the end."""
    from django.db import connections

    from goteo.models import Message

    connections.close_all()
    command = [sys.executable, "-m", "tests.chaos.worker_main", "run_worker", "--exit-when-idle"]
    command += [f"--processes={processes}", f"--threads={max(1, threads // processes)}", "--heartbeat=5"]
    environment = os.environ | {"PYTHONPATH": str(ROOT), "GOTEO_TEST_PAUSE_SCALE": str(DELAY)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    supervisor = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True)
    assert supervisor.stdout is not None
    started = None
    for line in supervisor.stdout:  # each copy says "Worker ... iniciado" as its run begins
        if started is None and line.startswith("Worker ") and "iniciado" in line:
            started = time.monotonic()
    assert supervisor.wait() == 0 and started is not None
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert Message.objects.filter(status="sent").count() == Message.objects.count()
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


if __name__ == "__main__":
    main()
