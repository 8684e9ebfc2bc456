"""f. One automation run over 100,000 contacts: what the worker pays every few minutes.

    python bench/enroll_automation.py [--db sqlite|postgres] [--size 100000]

Every contact has a birth date and a last visit spread over ten years. Two automations,
a birthday greeting and a yearly reminder (``days-since:last_visit:365``), are started;
then a second run on the same day, which finds nobody new, is timed: that is the cost the
worker pays at each rescan. The first run's time is printed too (the reminder enrolls at
most what its daily limit can send within its grace period). Target: a run with nobody
new under 1 s.
"""

from __future__ import annotations

import time

from common import Stopwatch, all_day_campaign, arguments, database, report

SECONDS = 1.0


def main() -> None:
    args = arguments(__doc__.splitlines()[0], size=100_000)
    with database(args.db, args.keep):
        from datetime import date, timedelta

        from django.utils import timezone

        from goteo.automations import run_automations, start_automation
        from goteo.models import Contact, Message, Sender

        start = date(2016, 1, 1)
        batch = []
        for n in range(args.size):
            born = date(1960, 1, 1) + timedelta(days=(n * 7919) % 18_000)
            visited = start + timedelta(days=(n * 104_729) % 3_650)
            batch.append(
                Contact(
                    full_name=f"Persona {n}",
                    phone=f"+57310{n:07d}",
                    consent=True,
                    birth_date=born,
                    last_visit=visited,
                )
            )
            if len(batch) == 10_000:
                Contact.objects.bulk_create(batch)
                batch = []
        Contact.objects.bulk_create(batch)
        sender = Sender.objects.create(name="tienda", backend="memory", daily_cap=10**6)
        now = timezone.now()
        first_cpu = time.process_time()
        with Stopwatch() as first_run:
            for name, trigger in (("cumpleaños", "birthday"), ("control anual", "days-since:last_visit:365")):
                campaign = all_day_campaign(sender, name=name, limit=30)
                campaign.trigger = trigger
                campaign.save(update_fields=["trigger"])
                start_automation(campaign, now)
        first_cpu = time.process_time() - first_cpu
        enrolled = Message.objects.count()
        cpu = time.process_time()
        with Stopwatch() as again:
            added = run_automations(now)
        cpu = time.process_time() - cpu
    assert added == 0 and enrolled > 0, (added, enrolled)
    report(
        "f. vuelta de automatizaciones sin nadie nuevo (100.000 contactos)",
        args.db,
        again.seconds,
        "s",
        f"<= {SECONDS:.0f} s",
        again.seconds <= SECONDS,
        cpu_s=round(cpu, 2),
        first_run_s=round(first_run.seconds, 2),
        first_run_cpu_s=round(first_cpu, 2),
        enrolled=enrolled,
    )


if __name__ == "__main__":
    main()
