"""b. Launching a campaign for 100,000 contacts: time and peak memory.

    python bench/launch_contacts.py [--db sqlite|postgres] [--size 100000] [--unique-codes]

The contacts and the draft campaign are made first; the launch then runs in a fresh
process, so its peak memory (the process's maximum resident size) is the launch's own.
Targets: at most 3 s and at most 300 MB.
"""

from __future__ import annotations

import json
import time

from common import (
    Stopwatch,
    all_day_campaign,
    arguments,
    attach,
    database,
    make_contacts,
    peak_rss_mb,
    report,
    run_child,
)

SECONDS, MEGABYTES = 3.0, 300.0


def launch_only() -> None:
    attach()
    from django.utils import timezone

    from goteo.launch import campaign_launch
    from goteo.models import Campaign

    campaign = Campaign.objects.get(name="lanzamiento")
    cpu = time.process_time()
    with Stopwatch() as watch:
        result = campaign_launch(campaign, timezone.now())
    cpu = time.process_time() - cpu
    print(json.dumps({"seconds": watch.seconds, "cpu": cpu, "rss": peak_rss_mb(), "pending": result.pending}))


def main() -> None:
    flags = {"--unique-codes": "un código por persona (Campaign.unique_codes)"}
    args = arguments(__doc__.splitlines()[0], size=100_000, flags=flags)
    if args.child:
        return launch_only()
    with database(args.db, args.keep):
        from goteo.models import Sender

        make_contacts(args.size)
        sender = Sender.objects.create(name="tienda", backend="memory", daily_cap=30)
        campaign = all_day_campaign(sender, name="lanzamiento", limit=30)
        if args.unique_codes:
            campaign.unique_codes = True
            campaign.save(update_fields=["unique_codes"])
        measured = run_child("launch_contacts.py")
    assert measured["pending"] == args.size, measured
    seconds, rss = float(measured["seconds"]), float(measured["rss"])
    ok = seconds <= SECONDS and rss <= MEGABYTES
    report(
        "b. lanzar 100.000 contactos" + (", un código por persona" if args.unique_codes else ""),
        args.db,
        seconds,
        "s",
        f"<= {SECONDS:.0f} s, <= {MEGABYTES:.0f} MB",
        ok,
        peak_mb=round(rss),
        cpu_s=round(float(measured["cpu"]), 2),
    )


if __name__ == "__main__":
    main()
