"""What every benchmark shares: a fresh database, Django set up on it, and one result line.

Each benchmark runs in its own process (``run_all.py`` starts them), creates its own
database (a SQLite file in a temporary folder, or a PostgreSQL database it drops at the
end) and prints one JSON line: name, database, measured value, unit, target, ok.
PostgreSQL is reached at GOTEO_BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("GOTEO_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def arguments(description: str, size: int, flags: dict[str, str] | None = None) -> argparse.Namespace:
    """--db, --keep, and --size (how many messages, contacts or rows; ``size`` by default),
    and the benchmark's own on/off ``flags`` (name: help)."""
    parser = argparse.ArgumentParser(description=description)
    for flag, text in (flags or {}).items():
        parser.add_argument(flag, action="store_true", help=text)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", help="folder to keep the SQLite database in")
    parser.add_argument("--size", type=int, default=size)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def postgres_available() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
    except Exception:
        return False
    return True


@contextmanager
def database(kind: str, folder: str | None = None) -> Iterator[Path]:
    """Point Django at a new, migrated database; yields the data folder."""
    data = Path(folder or tempfile.mkdtemp(prefix="goteo-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    os.environ["GOTEO_DATA_DIR"] = str(data)
    os.environ["GOTEO_COMPLIANCE_PROFILE"] = "none"  # benchmarks send at any hour
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goteo.settings")
    name = f"goteo_bench_{os.getpid()}"
    if kind == "postgres":
        admin("CREATE DATABASE " + name)
        os.environ["DATABASE_URL"] = f"{POSTGRES}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        yield data
    finally:
        if kind == "postgres":
            from django.db import connections

            connections.close_all()
            admin("DROP DATABASE IF EXISTS " + name)


def attach() -> None:
    """Set Django up on the database a parent benchmark made (DATABASE_URL is inherited)."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_child(script: str, *args: str) -> dict[str, object]:
    """Run ``script --child`` in a fresh process on the same database; its last JSON line."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / script), "--child", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def peak_rss_mb() -> float:
    """The most memory this process has held so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, db: str, value: float, unit: str, target: str, ok: bool, **extra: object) -> None:
    line = {"name": name, "db": db, "value": round(value, 3), "unit": unit, "target": target, "ok": ok}
    print(json.dumps(line | extra, ensure_ascii=False), flush=True)


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def make_contacts(n: int, *, prefix: str = "+57310") -> None:
    """``n`` consenting contacts with distinct valid Colombian mobile numbers."""
    from goteo.models import Contact

    batch = []
    for i in range(n):
        batch.append(Contact(full_name=f"Persona {i} Prueba", phone=f"{prefix}{i:07d}", consent=True))
        if len(batch) == 10_000:
            Contact.objects.bulk_create(batch)
            batch = []
    Contact.objects.bulk_create(batch)


def all_day_campaign(sender, *, name: str, delay: int = 0, limit: int = 10**6, audience: str = "all"):
    """A draft campaign that may send at any hour of any day."""
    from datetime import date
    from datetime import time as clock_time

    from goteo.models import Campaign, Promotion

    promotion = Promotion.objects.create(
        code=f"B{Promotion.objects.count()}", name=name, benefit="2x1", valid_until=date(2099, 1, 1)
    )
    return Campaign.objects.create(
        name=name,
        promotion=promotion,
        sender=sender,
        template="¡Hola {name}! {benefit} con el código {code}",
        audience=audience,
        delay_seconds=delay,
        daily_limit=limit,
        window_start=clock_time(0),
        window_end=clock_time(23, 59, 59),
        send_days="mon,tue,wed,thu,fri,sat,sun",
        skip_holidays=False,
    )
