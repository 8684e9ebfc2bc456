"""Building race and chaos scenarios, running worker processes, and checking the promises.

Sizes are small enough for CI by default; GOTEO_FULL_SIZE=1 runs the full sizes of
reliability.md §8 (8 workers and 400 messages in every race, longer kill campaigns).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

from django.db.models import Q
from django.utils import timezone

from goteo.launch import campaign_launch
from goteo.models import (
    Campaign,
    CampaignStatus,
    Contact,
    DailyCounter,
    Message,
    MessageStatus,
    Promotion,
    Sender,
)
from goteo.sending import Engine
from tests.chaos.ledger import LedgerServer
from tests.processes import goteo_env

FULL_SIZE = os.environ.get("GOTEO_FULL_SIZE") == "1"
FINAL = {MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SKIPPED, MessageStatus.UNKNOWN}
ALL_DAYS = "mon,tue,wed,thu,fri,sat,sun"


def size(ci: int, full: int) -> int:
    return full if FULL_SIZE else ci


def ledger_sender(url: str, *, cap: int = 100_000, name: str = "ledger", timeout: float = 0.5) -> Sender:
    return Sender.objects.create(
        name=name,
        backend="ledger",
        daily_cap=cap,
        time_zone="America/Bogota",
        config={"base_url": url, "read_timeout": timeout},
    )


def open_campaigns(
    sender: Sender, people: int, *, campaigns: int = 1, limit: int = 100_000
) -> list[Campaign]:
    """``campaigns`` launched campaigns sharing ``people`` contacts, always in their window."""
    start = Contact.objects.count()
    Contact.objects.bulk_create(
        Contact(full_name=f"Persona {start + i}", phone=f"+57310{start + i:07d}", consent=True)
        for i in range(people)
    )
    ids = list(Contact.objects.order_by("id").values_list("id", flat=True))[start:]
    made = []
    share = -(-people // campaigns)
    for n in range(campaigns):
        tag = f"{sender.name}-{n}"
        promotion = Promotion.objects.create(
            code=f"P{sender.pk}X{n}", name=tag, benefit="2x1", valid_until=date(2099, 1, 1)
        )
        mine = ids[n * share : (n + 1) * share]
        campaign = Campaign.objects.create(
            name=tag,
            promotion=promotion,
            sender=sender,
            template="Hola {name}",
            audience=f"tag:{tag}",
            delay_seconds=0,
            daily_limit=limit,
            window_start=clock_time(0),
            window_end=clock_time(23, 59, 59),
            send_days=ALL_DAYS,
            skip_holidays=False,
        )
        from goteo.models import Tag

        label = Tag.objects.create(name=tag)
        label.contacts.add(*mine)
        campaign_launch(campaign, timezone.now())
        made.append(campaign)
    return made


def worker_command(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.chaos.worker_main",
        "run_worker",
        "--threads",
        "2",
        "--heartbeat",
        "1",
        "--rescan",
        "0.3",
        "--exit-when-idle",
        *extra,
    ]


def start_workers(
    n: int, tmp_path: Path, *, broken: str = "", lease: int = 600, args: tuple[str, ...] = (), **env: str
) -> list[subprocess.Popen[str]]:
    """``n`` worker processes on the test database, started at the same moment.

    Each boots, says it is ready and waits; once all are ready they are let go together,
    so the race really is a race. Their stderr goes to tmp_path/logs.
    """
    barrier = tmp_path / f"barrier-{time.monotonic_ns()}"
    barrier.mkdir()
    environment = goteo_env(
        tmp_path,
        GOTEO_BROKEN=broken,
        GOTEO_SENDING_LEASE_SECONDS=str(lease),
        GOTEO_TEST_BARRIER=str(barrier),
        **env,
    )
    workers = [start_worker(environment, tmp_path, args) for _ in range(n)]
    deadline = time.monotonic() + 120
    while len(list(barrier.glob("ready-*"))) < n:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            for worker in workers:
                worker.kill()
            raise AssertionError("the workers did not start:\n" + worker_logs(tmp_path))
        time.sleep(0.02)
    (barrier / "go").touch()
    return workers


def start_worker(
    environment: dict[str, str], tmp_path: Path, args: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    log = (logs / f"worker-{time.monotonic_ns()}.log").open("w")
    return subprocess.Popen(
        worker_command(*args),
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
        start_new_session=True,
    )


def wait_all(workers: list[subprocess.Popen[str]], timeout: float = 240) -> list[int]:
    """Wait for every worker to exit on its own; kill the stragglers and fail."""
    deadline = time.monotonic() + timeout
    codes = []
    for worker in workers:
        try:
            codes.append(worker.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for other in workers:
                if other.poll() is None:
                    os.killpg(other.pid, signal.SIGKILL)
            raise AssertionError("a worker did not finish in time") from None
    return codes


def worker_logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text()[-3000:] for p in sorted((tmp_path / "logs").glob("*.log")))


def final_sweep() -> int:
    """What a later worker would do: every row still ``sending`` becomes ``unknown``."""
    far = timezone.now() + timezone.timedelta(days=1)
    return Engine(worker_name="prueba").sweep_stale(far)


def broken_promises(ledger: LedgerServer, now: datetime | None = None) -> list[str]:
    """Every way the run broke a promise, from the ledger and the database; [] if none."""
    now = now or timezone.now()
    problems = []
    duplicates = ledger.duplicates()
    if duplicates:
        problems.append(f"never twice: {len(duplicates)} phones got more than one message")
    status_of = dict(Message.objects.exclude(phone=None).values_list("phone", "status"))
    wrong = {p: status_of.get(p) for p in ledger.deliveries if status_of.get(p) not in ("sent", "unknown")}
    if wrong:
        problems.append(f"never lost: delivered messages recorded as {sorted(map(str, set(wrong.values())))}")
    left = Message.objects.filter(status=MessageStatus.SENDING).count()
    if left:
        problems.append(f"never lost: {left} messages still sending after the sweep")
    problems += unexplained_pending(now)
    problems += caps_exceeded(ledger, now)
    for campaign in Campaign.objects.all():
        kept = campaign.counts()
        if kept != campaign.recount():
            problems.append(f"counters of campaign {campaign.pk} drifted: {kept}")
    return problems


def unexplained_pending(now: datetime) -> list[str]:
    """Pending messages must wait for a reason: a backoff, a full day, a paused campaign."""
    problems = []
    for campaign in Campaign.objects.select_related("sender"):
        day = campaign.sender.local_day(now)
        full = DailyCounter.used_on(campaign.counter_scope, day) >= campaign.daily_limit or (
            DailyCounter.used_on(campaign.sender.counter_scope, day) >= campaign.sender.cap_on(day)
        )
        if full or campaign.status != CampaignStatus.ACTIVE:
            continue
        waiting = campaign.messages.filter(status=MessageStatus.PENDING).exclude(Q(next_attempt_at__gt=now))
        if waiting.exists():
            problems.append(f"never lost: {waiting.count()} pending without a reason in {campaign}")
    return problems


def caps_exceeded(ledger: LedgerServer, now: datetime) -> list[str]:
    problems = []
    for sender in Sender.objects.all():
        day = sender.local_day(now)
        used = DailyCounter.used_on(sender.counter_scope, day)
        phones = set(
            Message.objects.filter(campaign__sender=sender)
            .exclude(phone=None)
            .values_list("phone", flat=True)
        )
        delivered = sum(n for phone, n in ledger.deliveries.items() if phone in phones)
        cap = sender.cap_on(day)
        if used > cap:
            problems.append(f"cap: {sender} reserved {used} slots, cap {cap}")
        if delivered > cap:
            problems.append(f"cap: {sender} delivered {delivered}, cap {cap}")
    for campaign in Campaign.objects.select_related("sender"):
        used = DailyCounter.used_on(campaign.counter_scope, campaign.sender.local_day(now))
        if used > campaign.daily_limit:
            problems.append(f"cap: {campaign} reserved {used}, limit {campaign.daily_limit}")
    return problems
