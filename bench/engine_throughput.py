"""a. Engine throughput: claim -> send -> record, zero delay, an instant transport.

    python bench/engine_throughput.py [--db sqlite|postgres] [--size 2000]

One sender, one campaign, the in-memory transport, and ``Engine.run`` (what
``goteo process_campaigns`` does) timed from the first claim to the last record.
Target: at least 200 messages per second on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time

from common import Stopwatch, all_day_campaign, arguments, database, make_contacts, report

TARGET = 200.0


def main() -> None:
    args = arguments(__doc__.splitlines()[0], size=2000)
    messages = args.size
    with database(args.db, args.keep):
        from django.utils import timezone

        from goteo.launch import campaign_launch
        from goteo.models import Message, Sender
        from goteo.sending import Engine

        make_contacts(messages)
        sender = Sender.objects.create(name="rapido", backend="memory", daily_cap=10**6)
        campaign_launch(all_day_campaign(sender, name="rendimiento"), timezone.now())
        cpu = time.process_time()
        with Stopwatch() as watch:
            summary = Engine(max_wait=5).run()
        cpu = time.process_time() - cpu
        sent = Message.objects.filter(status="sent").count()
        assert summary.sent == sent == messages, (summary.sent, sent)
        rate = sent / watch.seconds
        report(
            "a. motor (mensajes/s)",
            args.db,
            rate,
            "msg/s",
            f">= {TARGET:.0f}",
            rate >= TARGET,
            cpu_ms_per_message=round(1000 * cpu / sent, 2),
        )


if __name__ == "__main__":
    main()
