"""How long the dashboard's pages take with 1,000,000 messages on SQLite.

    python bench/bench_dashboard.py [--messages 1000000] [--repeat 20] [--keep DIR]

Builds a fresh SQLite database in a temporary folder (or DIR), fills one campaign with
the given number of messages (40% sent, the rest pending, failed, skipped or unknown)
beside twenty small campaigns that sent to some of the same people this week, and a reply
from every twentieth person sent to (one in forty still waiting), then times each page
through Django's test client, signed in as an owner. Of those sent, 90% were delivered, 60%
read, 5% replied and 2% redeemed at the counter over the last month (the funnel and the
chart's redemptions per day). The target is under 100 ms for the campaign list, the campaign
page, the results page, the replies inbox and ``campaign_status`` (one campaign, and all).

``--per-day`` is how many messages the number sends a day (30 by default, the most the
seed recommends): the big campaign's history is spread at that rate, and the small
campaigns send a week of it, which is what the frequency cap looks up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
BATCH = 20_000


def setup_django(folder: Path) -> None:
    os.environ["GOTEO_DATA_DIR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goteo.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def status_for(i: int, total: int) -> str:
    """40% sent, 57% pending, 1.5% failed, 1% skipped, 0.5% unknown, in id order like a real run."""
    share = i / total
    if share < 0.40:
        return "sent"
    if share < 0.415:
        return "failed"
    if share < 0.425:
        return "skipped"
    if share < 0.43:
        return "unknown"
    return "pending"


def reached(i: int, status: str, sent_at: datetime) -> dict[str, Any]:
    """What became of a sent message: 90% delivered, 60% read, 5% replied (by its id)."""
    if status != "sent" or i % 10 == 9:
        return {}
    fields: dict[str, Any] = {"delivered_at": sent_at + timedelta(minutes=1)}
    if i % 10 < 6:
        fields["read_at"] = sent_at + timedelta(minutes=30)
    if i % 20 == 0:
        fields["replied_at"] = sent_at + timedelta(hours=1)
    return fields


def funnel_counts(sent: int) -> dict[str, int]:
    """The counters ``reached`` and ``redeem`` give the big campaign, as the receipts would."""
    return {
        "delivered_count": sum(1 for i in range(sent) if i % 10 != 9),
        "read_count": sum(1 for i in range(sent) if i % 10 < 6),
        "replied_count": sum(1 for i in range(sent) if i % 20 == 0 and i % 10 != 9),
        "redeemed_count": len(range(0, sent, 50)),
        "opted_out_count": sent // 400,
    }


def redeem(campaign_id: int, promotion_id: int, sent: int, now: datetime) -> None:
    """2% of those sent came in over the last thirty days and redeemed their code."""
    from goteo.models import Redemption

    Redemption.objects.bulk_create(
        (
            Redemption(
                promotion_id=promotion_id,
                campaign_id=campaign_id,
                phone=f"+57300{i:07d}",
                redeemed_at=now - timedelta(days=(i // 50) % 30, hours=(i // 50) % 9),
                redeemed_by="mostrador",
            )
            for i in range(0, sent, 50)
        ),
        batch_size=5000,
    )


def seed(total: int, now: datetime, per_day: int) -> int:
    """The big campaign's id, after filling the database."""
    from django.db import transaction

    from goteo.models import Campaign, Message, Promotion, Sender

    sender = Sender.objects.create(name="tienda", backend="console", daily_cap=per_day)
    promotion = Promotion.objects.create(
        name="Navidad", code="NAVIDAD2026", benefit="30% de descuento", valid_until=date(2099, 1, 1)
    )
    big = Campaign.objects.create(
        name="Navidad 2026",
        promotion=promotion,
        sender=sender,
        template="¡Hola {name}! {benefit} con el código {code}",
        status="active",
        daily_limit=per_day,
        send_days="mon,tue,wed,thu,fri,sat,sun",
        started_at=now - timedelta(days=int(total * 0.4) // per_day + 1),
    )
    sent = int(total * 0.4)
    started = time.perf_counter()
    for first in range(0, total, BATCH):
        rows = []
        for i in range(first, min(first + BATCH, total)):
            status = status_for(i, total)
            # Sends spread back from yesterday at per_day a day; failures and unknowns are
            # the most recent attempts.
            sent_at = now - timedelta(days=abs(sent - i) // per_day + 1, minutes=(i % per_day) * 10)
            rows.append(
                Message(
                    campaign=big,
                    contact_name=f"Persona {i} Prueba",
                    phone=f"+57300{i:07d}",
                    status=status,
                    rendered_text=f"¡Hola Persona! 30% de descuento con el código NAVIDAD2026 #{i}",
                    sent_at=sent_at if status == "sent" else None,
                    claimed_at=sent_at if status in ("sent", "unknown", "failed") else None,
                    attempts=1 if status != "pending" else 0,
                    skip_reason="opted_out" if status == "skipped" else "",
                    last_error="sin respuesta del proveedor" if status in ("unknown", "failed") else "",
                    **reached(i, status, sent_at),
                )
            )
        with transaction.atomic():
            Message.objects.bulk_create(rows, batch_size=5000)
        done = min(first + BATCH, total)
        print(f"\r  {done:,} mensajes ({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    big.recount()
    redeem(big.pk, promotion.pk, sent, now)
    Campaign.objects.filter(pk=big.pk).update(**funnel_counts(sent))
    seed_replies(big, now, sent)
    # Twenty small campaigns that reached some of the same people in the last week.
    recent_each = max(1, per_day * 7 // 20)
    for n in range(20):
        small = Campaign.objects.create(
            name=f"Campaña {n}",
            promotion=promotion,
            sender=sender,
            template="Hola {name}",
            status="active" if n % 2 else "completed",
            started_at=now - timedelta(days=6),
        )
        Message.objects.bulk_create(
            Message(
                campaign=small,
                contact_name=f"Persona {total - 1 - n * 1000 - j} Prueba",
                phone=f"+57300{total - 1 - n * 1000 - j:07d}",
                status="sent" if j < recent_each else "pending",
                rendered_text="Hola Persona",
                sent_at=now - timedelta(days=j % 6 + 1) if j < recent_each else None,
                claimed_at=now - timedelta(days=j % 6 + 1) if j < recent_each else None,
            )
            for j in range(recent_each + 50)
        )
        small.recount()
        Campaign.objects.filter(pk=small.pk).update(
            delivered_count=recent_each,
            read_count=recent_each // 2,
            replied_count=n % 4,
            opted_out_count=n % 2,
        )
    return big.pk


def seed_replies(campaign, now: datetime, sent: int) -> None:
    """One reply for every twentieth message sent, half of them handled, for the inbox."""
    from goteo.models import InboundMessage

    InboundMessage.objects.bulk_create(
        (
            InboundMessage(
                provider="cloud",
                provider_message_id=f"wamid.bench{i}",
                sender_ref=f"57300{i:07d}",
                phone=f"+57300{i:07d}",
                campaign=campaign,
                text="¿Cuánto valen las monturas?",
                received_at=now - timedelta(minutes=i),
                handled_by="panel:bench" if i % 40 else "",
                handled_at=now if i % 40 else None,
            )
            for i in range(0, sent, 20)
        ),
        batch_size=5000,
    )


def timed(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    """(median ms, p95 ms, status, bytes) of ``repeat`` GETs after two warm-ups."""
    for _ in range(2):
        response = client.get(url)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    size = len(response.content) if not getattr(response, "streaming", False) else 0
    return statistics.median(times), p95, response.status_code, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--per-day", type=int, default=30, help="messages the number sends a day")
    parser.add_argument("--keep", help="folder for the database (kept); a temporary one otherwise")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="goteo-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    fresh = not (folder / "goteo.sqlite3").exists()
    setup_django(folder)

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from goteo.models import Campaign
    from goteo.roles import OWNER, assign_role

    now = timezone.now()
    if fresh:
        print(f"Creando {args.messages:,} mensajes en {folder} …", file=sys.stderr)
        campaign_id = seed(args.messages, now, args.per_day)
    else:
        campaign_id = Campaign.objects.order_by("-total_count").values_list("pk", flat=True)[0]
    user, _created = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    assign_role(user, OWNER)  # the owner sees every page the bench times
    client = Client()
    client.force_login(user)
    total = Campaign.objects.get(pk=campaign_id).total_count

    pending_from = Campaign.objects.get(pk=campaign_id).messages.filter(status="pending").order_by("id")
    deep_id = pending_from.values_list("id", flat=True)[total // 3]
    pages = [
        ("lista de campañas", reverse("goteo:campaign_list"), True),
        ("campaña (tarjeta, gráfico, conexión)", reverse("goteo:campaign_detail", args=[campaign_id]), True),
        ("tarjeta en vivo (cada 5 s)", reverse("goteo:campaign_live", args=[campaign_id]), True),
        ("resultados (campañas lado a lado)", reverse("goteo:results"), True),
        ("destinatarios, primera página", reverse("goteo:campaign_recipients", args=[campaign_id]), False),
        ("respuestas sin atender", reverse("goteo:reply_list"), True),
        (
            "respuestas de la campaña, todas",
            reverse("goteo:campaign_replies", args=[campaign_id]) + "?ver=todas",
            True,
        ),
        (
            "destinatarios pendientes, página profunda",
            reverse("goteo:campaign_recipients", args=[campaign_id]) + f"?estado=pending&despues={deep_id}",
            False,
        ),
        (
            "destinatarios, buscar teléfono exacto",
            reverse("goteo:campaign_recipients", args=[campaign_id]) + "?q=%2B573000500000",
            False,
        ),
        (
            "destinatarios, buscar nombre (recorre la campaña)",
            reverse("goteo:campaign_recipients", args=[campaign_id]) + "?q=Nadie+Conocido",
            False,
        ),
    ]
    print(f"\ngoteo: páginas del panel con {total:,} mensajes en SQLite ({args.repeat} repeticiones)\n")
    print(f"{'página':<50} {'mediana':>9} {'p95':>9}  estado")
    failed = False
    for label, url, has_target in pages:
        median, p95, status, _size = timed(client, url, args.repeat)
        verdict = ""
        if has_target:
            ok = median < TARGET_MS and status == 200
            failed |= not ok
            verdict = "✓ < 100 ms" if ok else "✗ objetivo 100 ms"
        print(f"{label:<50} {median:>7.1f}ms {p95:>7.1f}ms  {status} {verdict}")
    for label, command in (
        ("campaign_status --json (la campaña grande)", [str(campaign_id), "--json"]),
        ("campaign_status --json (todas)", ["--json"]),
        ("campaign_status (la campaña grande, texto)", [str(campaign_id)]),
    ):
        median, p95 = timed_command(command, args.repeat)
        ok = median < TARGET_MS
        failed |= not ok
        verdict = "✓ < 100 ms" if ok else "✗ objetivo 100 ms"
        print(f"{label:<50} {median:>7.1f}ms {p95:>7.1f}ms  —   {verdict}")
    return 1 if failed else 0


def timed_command(args: list[str], repeat: int) -> tuple[float, float]:
    """(median ms, p95 ms) of ``goteo campaign_status`` with ``args``, after two warm-ups."""
    import io

    from django.core.management import call_command

    times = []
    for run in range(repeat + 2):
        started = time.perf_counter()
        call_command("campaign_status", *args, stdout=io.StringIO())
        if run >= 2:
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


if __name__ == "__main__":
    raise SystemExit(main())
