"""Shared fixtures: a private test database per run, a pinned clock, campaign factories."""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from goteo.clock import SimulatedClock
from tests.dashboard import pin_page_clock, sign_in

BOGOTA = ZoneInfo("America/Bogota")
FRIDAY = date(2026, 1, 2)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, tz: ZoneInfo = BOGOTA) -> datetime:
    """A moment on a wall clock, in Bogotá unless told."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=tz)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give every test run its own database, so runs side by side never collide.

    SQLite uses a file (not memory), so worker subprocesses can share it.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        folder = tempfile.mkdtemp(prefix="goteo-test-")
        db.setdefault("TEST", {})["NAME"] = os.path.join(folder, "test.sqlite3")
    else:
        db.setdefault("TEST", {})["NAME"] = f"test_goteo_{os.getpid()}"


@pytest.fixture(autouse=True)
def _memory_transport():
    from goteo.transports.memory import MemoryTransport

    MemoryTransport.reset()
    yield
    MemoryTransport.reset()


@pytest.fixture(autouse=True)
def _spanish():
    """Each test starts in the default language: an English page must not leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def clock() -> SimulatedClock:
    """Friday 2 January 2026, 10:00 in Bogotá: the seed's first sending day."""
    return SimulatedClock(datetime.combine(FRIDAY, time(10, 0), tzinfo=BOGOTA))


@pytest.fixture
def no_legal_hours(monkeypatch):
    """Turn the legal sending profile off: for runs on the real clock at any hour (commands, worker
    processes, races and kills, always-open windows). tests/test_compliance.py covers the profile."""
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")


# Settings a developer's shell may carry that would change what a test sees.
PROVIDER_ENVIRONMENT = (
    "WHATSAPP_BACKEND",
    "WHATSAPP_APP_SECRET",
    "EVOLUTION_WEBHOOK_SECRET",
    "WAHA_WEBHOOK_HMAC_KEY",
    "GOTEO_PUBLIC_URL",
    "GOTEO_OPT_OUT_WORDS",
    "GOTEO_OPT_OUT_REPLY",
    "GOTEO_HEALTH_CACHE_SECONDS",
)


@pytest.fixture
def plain_environment(monkeypatch):
    """No provider, webhook secret, public address or opt-out words from the environment."""
    for name in PROVIDER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def staff(client, db, clock, monkeypatch):
    """Django's test client signed in as a staff member, the dashboard reading ``clock``."""
    pin_page_clock(monkeypatch, clock)
    sign_in(client)
    return client


@pytest.fixture
def patients(db):
    """Five consenting patients, +57300100000 to +57300100004."""
    from goteo.models import Contact

    Contact.objects.bulk_create(
        Contact(full_name=f"Paciente {i}", phone=f"+57300100{i:04d}", consent=True) for i in range(5)
    )


@pytest.fixture
def memory_sender(db):
    from goteo.models import Sender

    return Sender.objects.create(name="pruebas", backend="memory", daily_cap=30)


@pytest.fixture
def console_sender(db):
    """A number in test mode: its messages are printed, none goes out."""
    from goteo.models import Sender

    return Sender.objects.create(name="mostrador", backend="console", daily_cap=30)


@pytest.fixture
def make_campaign(db, memory_sender):
    """Create contacts and a launched (or draft) campaign in one call."""
    from goteo.launch import campaign_launch
    from goteo.models import Campaign, Contact, Promotion

    counter = {"n": 0}

    def make(
        contacts: int = 10,
        *,
        now: datetime | None = None,
        launch: bool = True,
        sender=None,
        valid_until: date = date(2026, 2, 2),
        template: str = "¡Hola {name}! {benefit} con el código {code}",
        **fields,
    ) -> Campaign:
        counter["n"] += 1
        start = Contact.objects.count()
        Contact.objects.bulk_create(
            Contact(
                full_name=f"Persona {start + i} Prueba",
                phone=f"+57300{2000000 + start + i:07d}",
                consent=True,
            )
            for i in range(contacts)
        )
        promotion = Promotion.objects.create(
            code=f"PROMO{counter['n']}", name="Promo", benefit="30% de descuento", valid_until=valid_until
        )
        fields.setdefault("delay_seconds", 10)
        campaign = Campaign.objects.create(
            name=f"Campaña {counter['n']}",
            promotion=promotion,
            sender=sender or memory_sender,
            template=template,
            **fields,
        )
        if launch:
            campaign_launch(campaign, now or datetime.combine(FRIDAY, time(9, 0), tzinfo=BOGOTA))
            campaign.refresh_from_db()
        return campaign

    return make


@pytest.fixture
def migrate_to():
    """Move the database to a migration and give its models (as that migration saw them);
    afterwards the database is fully migrated again, as every later test expects."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def to(target: list[tuple[str, str]]):
        executor = MigrationExecutor(connection)
        executor.migrate(target)
        return executor.loader.project_state(target).apps

    yield to
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
