"""The frequency cap's lookups: same answers through every path, whatever the sizes."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goteo.engine import Engine
from goteo.frequency import has_free_pending, held_messages
from goteo.status import campaign_summary
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db


def at(d: int, hh: int = 10) -> datetime:
    return datetime(2026, 1, d, hh, tzinfo=BOGOTA)


@pytest.fixture
def half_reached(make_campaign, clock):
    """Four people received campaign A on Friday 2; campaign B has them and two new ones."""
    make_campaign(4)
    clock.set(at(2))
    Engine(clock, max_wait=3600).run()
    return make_campaign(2)


@pytest.mark.parametrize("limit", [2000, 1, 0])
def test_it_finds_the_held_people_whether_listed_chunked_or_compared(half_reached, monkeypatch, limit):
    monkeypatch.setattr("goteo.frequency.INLINE_LIMIT", limit)  # 0: NOT EXISTS subqueries
    monkeypatch.setattr("goteo.frequency.LOOKUP_CHUNK", max(limit, 1))  # 1: one person per query
    held = held_messages(half_reached, at(5))
    assert len(held) == 4 and set(held.values()) == {at(9, 0)}
    assert has_free_pending(half_reached, at(5), 7)
    half_reached.messages.exclude(pk__in=held).update(status="skipped")
    half_reached.recount()
    assert not has_free_pending(half_reached, at(5), 7)


def test_the_summary_asks_for_the_held_people_once(half_reached):
    with CaptureQueriesContext(connection) as queries:
        summary = campaign_summary(half_reached, at(5))
    assert (summary["frequency_held"], summary["frequency_held_until"]) == (4, at(9, 0))
    # The period's promotions in doubt are looked up by claim time, once.
    lookups = [q["sql"] for q in queries.captured_queries if '"goteo_message"."claimed_at" >=' in q["sql"]]
    assert len(lookups) == 1
