"""c. Importing a 100,000-row CSV of contacts.

    python bench/import_csv.py [--db sqlite|postgres] [--size 100000]

Writes a CSV like a shop's export (name, phone written as people type it, consent, tags),
then times ``import_contacts`` on an empty database in a fresh process. Target: at most 15 s.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from common import Stopwatch, arguments, attach, database, peak_rss_mb, report, run_child

SECONDS = 15.0


def write_csv(path: Path, rows: int) -> None:
    styles = ["300 {a:03d} {b:04d}", "+57 300{a:03d}{b:04d}", "(300) {a:03d}-{b:04d}", "300{a:03d}{b:04d}"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["nombre", "telefono", "consentimiento", "etiquetas"])
        for i in range(rows):
            phone = styles[i % 4].format(a=i // 10_000, b=i % 10_000)
            tags = "vip;lentes" if i % 10 == 0 else ("monturas" if i % 3 == 0 else "")
            writer.writerow([f"Persona {i} Apellido", phone, "si" if i % 20 else "no", tags])


def import_only(path: str) -> None:
    attach()
    from django.utils import timezone

    from goteo.importing import import_contacts

    with Stopwatch() as watch:
        result = import_contacts(Path(path), timezone.now())
    print(
        json.dumps(
            {
                "seconds": watch.seconds,
                "rss": peak_rss_mb(),
                "imported": result.imported,
                "rejected": len(result.rejected),
            }
        )
    )


def main() -> None:
    args = arguments(__doc__.splitlines()[0], size=100_000)
    if args.child:
        return import_only(os.environ["GOTEO_BENCH_CSV"])
    with database(args.db, args.keep) as folder:
        path = folder / "contactos.csv"
        write_csv(path, args.size)
        os.environ["GOTEO_BENCH_CSV"] = str(path)
        measured = run_child("import_csv.py")
    assert measured["imported"] == args.size, measured
    seconds = float(measured["seconds"])
    report(
        "c. importar CSV de 100.000 filas",
        args.db,
        seconds,
        "s",
        f"<= {SECONDS:.0f} s",
        seconds <= SECONDS,
        peak_mb=round(float(measured["rss"])),
    )


if __name__ == "__main__":
    main()
