"""The demo: 100 patients, the DEMO-NAVIDAD promotion and a campaign with the seed's template.

``simulate`` runs sending days in simulated time, so a week of sending takes a moment.
The demo only ever touches its own rows (its sender, its campaigns, its patients and its
promotion), and refuses to run in a database that holds a shop's own contacts or campaigns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import QuerySet

from goteo.clock import SimulatedClock
from goteo.launch import campaign_launch
from goteo.models import Campaign, Contact, DailyCounter, ExcludedPhone, Promotion, Sender, Tag
from goteo.models.senders import Backend
from goteo.sending import Engine
from goteo.transports.base import OutgoingMessage, Transport

DEMO_TAG = "demo"
DEMO_SENDER = "demo"
DEMO_SOURCE = "demo"  # the consent source that marks a demo patient
DEMO_CAMPAIGN = "Navidad 2026"
DEMO_CODE = "DEMO-NAVIDAD"  # clearly the demo's, so it never meets a shop's real code
SEED_TEMPLATE = """🎄 ¡Hola {nombre}!

👓 Tenemos una promoción especial de NAVIDAD para ti:

💰 {beneficio}
🎁 Código: {codigo}

📅 Válido hasta el {valido_hasta}

¡Visítanos y aprovecha esta oferta!

- CompuEasys"""

FIRST_NAMES = [
    "Daniel",
    "María",
    "Juan",
    "Valentina",
    "Santiago",
    "Camila",
    "Andrés",
    "Luisa",
    "Felipe",
    "Sofía",
    "Mateo",
    "Isabella",
    "Sebastián",
    "Gabriela",
    "Julián",
    "Natalia",
    "Diego",
    "Paula",
    "Alejandro",
    "Ana",
    "Carlos",
    "Laura",
    "Jorge",
    "Catalina",
    "Ricardo",
    "Mariana",
    "Óscar",
    "Daniela",
    "Hernán",
    "Juliana",
    "Pedro",
    "Lucía",
    "Esteban",
    "Manuela",
    "Tomás",
    "Carolina",
    "Nicolás",
    "Verónica",
    "Emilio",
    "Ximena",
]
SURNAMES = [
    "Osorio",
    "García",
    "Pérez",
    "Rodríguez",
    "Martínez",
    "Gómez",
    "López",
    "González",
    "Hernández",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flórez",
    "Rivera",
    "Moreno",
    "Jiménez",
    "Vargas",
    "Castro",
    "Ortiz",
    "Rojas",
    "Ruiz",
    "Silva",
    "Mejía",
    "Restrepo",
    "Cárdenas",
    "Muñoz",
    "Álvarez",
    "Quintero",
    "Zapata",
    "Díaz",
]
# The seed's own examples keep their places in the list.
SEED_PATIENTS = {
    1: "Daniel Osorio",
    2: "María García",
    3: "Juan Pérez",
    20: "Ana López",
    21: "Carlos Ruiz",
    22: "Laura Silva",
    40: "Pedro Díaz",
}


def demo_patients(n: int = 100) -> Iterator[tuple[str, str]]:
    """(full name, Colombian mobile) for ``n`` made-up patients."""
    for i in range(1, n + 1):
        name = SEED_PATIENTS.get(i) or (
            f"{FIRST_NAMES[(i * 7) % len(FIRST_NAMES)]} {SURNAMES[(i * 11) % len(SURNAMES)]}"
        )
        yield name, f"+57300{1000000 + i:07d}"


# What counts as a shop's own data, as (one, many) in Spanish.
SHOP_DATA_NAMES = {
    "contacts": ("contacto", "contactos"),
    "campaigns": ("campaña", "campañas"),
    "exclusions": ("número excluido", "números excluidos"),
    "senders": ("número de WhatsApp llamado «demo»", "números de WhatsApp llamados «demo»"),
}


class ShopDataFound(Exception):
    """The database holds a shop's own data, which the demo must not mix with."""

    def __init__(self, found: dict[str, int]) -> None:
        self.found = found
        super().__init__(", ".join(f"{n} {SHOP_DATA_NAMES[what][n != 1]}" for what, n in found.items()))


def demo_contacts() -> QuerySet[Contact]:
    return Contact.objects.filter(consent_source=DEMO_SOURCE, tags__name=DEMO_TAG)


def shop_data() -> dict[str, int]:
    """What the database holds besides a previous demo, e.g. ``{"contacts": 12}``."""
    demo_sender = Sender.objects.filter(name=DEMO_SENDER, backend=Backend.CONSOLE)
    found = {
        "contacts": Contact.objects.exclude(pk__in=demo_contacts().values("pk")).count(),
        "campaigns": Campaign.objects.exclude(sender__in=demo_sender).count(),
        "exclusions": ExcludedPhone.objects.count(),
        # A real number named like the demo's would be used for it: never.
        "senders": Sender.objects.filter(name=DEMO_SENDER).exclude(backend=Backend.CONSOLE).count(),
    }
    return {what: n for what, n in found.items() if n}


@transaction.atomic
def create_demo(start: datetime, patients: int = 100) -> Campaign:
    """Replace any previous demo with fresh patients, promotion and launched campaign.

    Raises ``ShopDataFound`` (and changes nothing) when the database holds anything else.
    """
    found = shop_data()
    if found:
        raise ShopDataFound(found)
    sender, _ = Sender.objects.get_or_create(name=DEMO_SENDER, defaults={"backend": Backend.CONSOLE})
    Campaign.objects.filter(sender=sender).delete()
    DailyCounter.objects.filter(scope__in=[sender.counter_scope]).delete()
    Sender.objects.filter(pk=sender.pk).update(next_send_at=None, paused_until=None, pause_reason="")
    sender.refresh_from_db()
    tag, _ = Tag.objects.get_or_create(name=DEMO_TAG)
    demo_contacts().delete()
    contacts = Contact.objects.bulk_create(
        Contact(
            full_name=name,
            phone=phone,
            phone_raw=phone,
            consent=True,
            consent_at=start,
            consent_source=DEMO_SOURCE,
        )
        for name, phone in demo_patients(patients)
    )
    Contact.tags.through.objects.bulk_create(
        Contact.tags.through(contact_id=c.pk, tag_id=tag.pk) for c in contacts
    )
    local_start = start.astimezone(sender.tz).date()
    promotion, _ = Promotion.objects.update_or_create(
        code=DEMO_CODE,
        defaults={
            "name": "Navidad 2026 (demostración)",
            "benefit": "30% de descuento en Monturas",
            "valid_until": local_start + timedelta(days=31),
        },
    )
    campaign = Campaign.objects.create(
        name=DEMO_CAMPAIGN,
        promotion=promotion,
        sender=sender,
        template=SEED_TEMPLATE,
        audience=f"tag:{DEMO_TAG}",
    )
    campaign_launch(campaign, start, simulate=True)  # the demo number only prints: a simulation
    campaign.refresh_from_db()
    return campaign


class DemoTransport(Transport):
    """Collects what would be sent; the simulation prints a table instead of each message."""

    name = "demo"
    simulates = True

    def __init__(self, outbox: list[OutgoingMessage]) -> None:
        super().__init__({})
        self.outbox = outbox

    def send(self, message: OutgoingMessage) -> str:
        self.outbox.append(message)
        return f"demo-{len(self.outbox)}"


@dataclass
class DayReport:
    """One simulated sending day, as the seed's day-by-day table shows it."""

    number: int
    date: dt.date
    sent_today: int
    pending: int
    sent: int  # simulated: the demo never sends
    failed: int
    skipped_days: list[dt.date]

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "sent_today": self.sent_today,
            "pending": self.pending,
            "sent": self.sent,
            "failed": self.failed,
            "simulated": True,
        }


def simulate(
    campaign: Campaign,
    start: datetime,
    days: int,
    run_at: time = time(10, 0),
    on_day: Callable[[DayReport], None] | None = None,
) -> list[DayReport]:
    """Run ``process_campaigns`` once a day at ``run_at`` for ``days`` sending days."""
    outbox: list[OutgoingMessage] = []
    rules = campaign.sending_rules()
    tz = campaign.sender.tz
    day = start.astimezone(tz).date()
    reports: list[DayReport] = []
    skipped: list[date] = []
    while len(reports) < days:
        if not rules.is_sending_day(day):
            skipped.append(day)
            day += timedelta(days=1)
            continue
        clock = SimulatedClock(datetime.combine(day, run_at, tzinfo=tz))
        before = len(outbox)
        Engine(clock, max_wait=3600, transport_factory=lambda _s: DemoTransport(outbox)).run([campaign.pk])
        campaign.refresh_from_db()
        report = DayReport(
            len(reports) + 1,
            day,
            len(outbox) - before,
            campaign.pending_count,
            campaign.simulated_count,  # what the simulation "sent": nobody received it
            campaign.failed_count,
            skipped,
        )
        reports.append(report)
        if on_day:
            on_day(report)
        skipped = []
        if campaign.pending_count == 0:
            break
        day += timedelta(days=1)
    return reports
