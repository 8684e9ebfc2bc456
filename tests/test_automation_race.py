"""Once per occurrence under concurrent runs: several enrollments of one automation at the same
moment write exactly one message per person, and the test sees duplicates when the guard is
taken away (no lock, and the unique constraints dropped in the test database)."""

import contextlib
import threading
from datetime import date

import pytest
from django.db import IntegrityError, connection, connections
from django.db.models import Count

from goteo import automations
from goteo.automations import start_automation
from goteo.models import Campaign, CampaignStatus, Message
from tests.automations import automation, local, person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_legal_hours"),
    pytest.mark.slow,
]

THREADS = 4
PEOPLE = 12
NOW = local(2026, 3, 10, 9)


def started() -> Campaign:
    for n in range(PEOPLE):
        person(f"P{n}", n, birth_date=date(1990, 3, 10))
    campaign = automation()
    start_automation(campaign, local(2026, 3, 1))  # nobody due yet
    return campaign


def race(campaign: Campaign, monkeypatch) -> list[Exception]:
    """Every thread enrolls the automation at NOW, the threads meeting after each has read who is
    enrolled, so that they overlap there if nothing keeps them apart. Their errors."""
    together = threading.Barrier(THREADS, timeout=1.0)
    original = automations.newly_due

    def read_then_meet(*args, **kwargs):
        found = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()
        return found

    monkeypatch.setattr(automations, "newly_due", read_then_meet)
    errors: list[Exception] = []

    def work() -> None:
        try:
            mine = Campaign.objects.select_related("promotion", "sender").get(pk=campaign.pk)
            automations.enroll(mine, NOW)
        except Exception as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def per_person() -> dict[int, int]:
    rows = Message.objects.values("contact_id", "occurrence").annotate(n=Count("id")).order_by()
    return {row["contact_id"]: row["n"] for row in rows}


def lockless(campaign_id: int) -> bool:
    """hold() without the row lock: only whether the automation is active."""
    return Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.ACTIVE).exists()


def test_concurrent_runs_enroll_each_person_once_per_occurrence(monkeypatch):
    campaign = started()
    errors = race(campaign, monkeypatch)
    assert not errors, errors
    counts = per_person()
    assert len(counts) == PEOPLE and set(counts.values()) == {1}
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.pending_count) == (PEOPLE, PEOPLE)


def test_without_the_lock_the_unique_constraint_still_refuses_a_second_message(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time: there is no overlap to get wrong")
    monkeypatch.setattr(automations, "hold", lockless)
    campaign = started()
    errors = race(campaign, monkeypatch)
    assert errors and all(isinstance(e, IntegrityError) for e in errors), errors
    assert set(per_person().values()) == {1}
    campaign.refresh_from_db()
    assert campaign.total_count == Message.objects.count() == PEOPLE  # the failed runs counted nothing


@pytest.fixture
def no_unique_constraints():
    """The test database without the once-per-occurrence constraints, put back afterwards."""
    once = [c for c in Message._meta.constraints if c.name.startswith("goteo_msg_once_per")]
    with connection.schema_editor() as editor:
        for constraint in once:
            editor.remove_constraint(Message, constraint)
    yield
    Message.objects.all().delete()
    with connection.schema_editor() as editor:
        for constraint in once:
            editor.add_constraint(Message, constraint)


@pytest.mark.usefixtures("no_unique_constraints")
def test_it_catches_runs_that_neither_lock_nor_have_the_constraint(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time: there is no overlap to get wrong")
    monkeypatch.setattr(automations, "hold", lockless)
    campaign = started()
    errors = race(campaign, monkeypatch)
    assert not errors, errors
    assert max(per_person().values()) > 1, "without lock and constraint the test must see duplicates"
