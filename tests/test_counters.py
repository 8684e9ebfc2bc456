"""The day's counters: a slot is taken in one statement, the day's first one included."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goteo.models import DailyCounter
from goteo.sending.dialect import take_slot

DAY = date(2026, 1, 2)


@pytest.mark.django_db
@pytest.mark.parametrize("reserve", [DailyCounter.reserve, take_slot], ids=["model", "engine"])
def test_it_takes_slots_up_to_the_cap_and_no_further(reserve):
    taken = [reserve("sender:1", DAY, 3) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert DailyCounter.used_on("sender:1", DAY) == 3


@pytest.mark.django_db
def test_the_model_takes_a_slot_in_one_statement_the_days_first_too():
    with CaptureQueriesContext(connection) as queries:
        assert DailyCounter.reserve("sender:1", DAY, 3)
        assert DailyCounter.reserve("sender:1", DAY, 3)
    assert len(queries) == 2


@pytest.mark.django_db
def test_the_engine_takes_a_slot_in_one_statement_once_the_days_row_exists():
    assert take_slot("sender:1", DAY, 3)  # the day's first: the increment finds no row, the upsert adds it
    with CaptureQueriesContext(connection) as queries:
        assert take_slot("sender:1", DAY, 3)
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["UPDATE"]


@pytest.mark.django_db
def test_it_keeps_each_scope_and_day_apart():
    assert DailyCounter.reserve("sender:1", DAY, 1)
    assert DailyCounter.reserve("campaign:1", DAY, 1)
    assert DailyCounter.reserve("sender:1", date(2026, 1, 5), 1)
    assert not DailyCounter.reserve("sender:1", DAY, 1)
    assert DailyCounter.used_by({("sender:1", DAY), ("campaign:1", DAY), ("campaign:2", DAY)}) == {
        ("sender:1", DAY): 1,
        ("campaign:1", DAY): 1,
    }


@pytest.mark.django_db
def test_it_gives_no_slot_under_a_cap_of_zero():
    assert not DailyCounter.reserve("sender:1", DAY, 0)
    assert not DailyCounter.objects.exists()
