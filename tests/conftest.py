"""Shared fixtures: a private test database per run, a pinned clock, campaign factories."""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from goteo.clock import SimulatedClock

BOGOTA = ZoneInfo("America/Bogota")
FRIDAY = date(2026, 1, 2)


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
def memory_sender(db):
    from goteo.models import Sender

    return Sender.objects.create(name="pruebas", backend="memory", daily_cap=30)


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
