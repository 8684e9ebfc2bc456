"""Run every goteo benchmark on SQLite and PostgreSQL and print a table.

    python bench/run_all.py [--only a,c] [--sqlite-only]

Each benchmark runs in its own process on its own fresh database (see common.py);
PostgreSQL is used when GOTEO_BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432) answers.
Benchmark d also runs with the frequency cap off (GOTEO_FREQUENCY_DAYS=0), to separate
the worker's own speed from the cap's lookups, and as ``run_worker --processes 2``. The
first line gives the machine's speed as the time of a fixed pure-Python loop: the same
machine kind can differ by half from one day to the next, and these benchmarks with it.
Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import postgres_available

HERE = Path(__file__).resolve().parent
BENCHMARKS: list[tuple[str, str, dict[str, str], list[str]]] = [
    ("a", "engine_throughput.py", {}, []),
    ("b", "launch_contacts.py", {}, []),
    ("c", "import_csv.py", {}, []),
    ("d", "many_senders.py", {}, []),
    ("d", "many_senders.py", {"GOTEO_FREQUENCY_DAYS": "0"}, []),
    ("d", "many_senders.py", {}, ["--processes", "2"]),
    ("e", "campaign_status.py", {}, []),
    ("f", "enroll_automation.py", {}, []),
]
REFERENCE_LOOP = 10_000_000


def reference_seconds() -> float:
    """Processor time of a fixed pure-Python loop: how fast this machine is right now."""
    started = time.process_time()
    total = 0
    for n in range(REFERENCE_LOOP):
        total += n
    return time.process_time() - started


def run(script: str, db: str, env: dict[str, str], args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(HERE / script), "--db", db, *args],
        capture_output=True,
        text=True,
        env=os.environ | env,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        error = (done.stderr.strip().splitlines() or ["sin salida"])[-1]
        return {"name": script, "db": db, "value": "error", "unit": "", "target": error[:60], "ok": False}
    result = json.loads(lines[-1])
    if env:
        result["name"] = f"{result['name']} ({', '.join(f'{k}={v}' for k, v in env.items())})"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="letters of the benchmarks to run, e.g. a,d")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) - {""}
    databases = ["sqlite"] if args.sqlite_only or not postgres_available() else ["sqlite", "postgres"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(
        f"goteo benchmarks · {os.cpu_count()} CPU · carga media {load:.1f}"
        f" · referencia: {REFERENCE_LOOP:,} sumas en {reference_seconds():.2f} s de CPU".replace(",", ".")
    )
    rows = []
    for letter, script, env, extra_args in BENCHMARKS:
        if wanted and letter not in wanted:
            continue
        for db in databases:
            result = run(script, db, env, extra_args)
            extra = {
                k: v for k, v in result.items() if k not in {"name", "db", "value", "unit", "target", "ok"}
            }
            rows.append(
                (
                    str(result["name"]),
                    db,
                    f"{result['value']} {result['unit']}".strip(),
                    str(result["target"]),
                    "sí" if result["ok"] else "NO",
                    " ".join(f"{k}={v}" for k, v in extra.items()),
                )
            )
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    header = ("prueba", "base", "medido", "objetivo", "cumple", "detalle")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
