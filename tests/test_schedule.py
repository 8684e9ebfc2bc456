"""Windows, sending days, holidays, time zones and forecasts (pure, no database)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from goteo.schedule import (
    SendingRules,
    describe_day,
    describe_moment,
    forecast_completion,
    is_holiday,
    next_send_time,
)
from tests.conftest import BOGOTA as BOG
from tests.conftest import at

NY = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def rules(tz=BOG, country="CO", start=time(9), end=time(19), days=WEEKDAYS):
    return SendingRules(start, end, days, tz, country)


def test_it_is_open_until_one_second_before_the_end():
    r = rules()
    assert r.is_open(at(2026, 1, 2, 18, 59, 59))
    assert not r.is_open(at(2026, 1, 2, 19, 0, 0))


def test_it_opens_exactly_at_the_start():
    r = rules()
    assert not r.is_open(at(2026, 1, 2, 8, 59, 59))
    assert r.is_open(at(2026, 1, 2, 9, 0, 0))


def test_it_is_closed_on_weekends_and_holidays():
    r = rules()
    assert not r.is_open(at(2026, 1, 3, 10))  # Saturday
    assert not r.is_open(at(2026, 1, 4, 10))  # Sunday
    assert is_holiday(date(2026, 1, 12), "CO")  # Reyes, moved to Monday
    assert not r.is_open(at(2026, 1, 12, 10))
    assert rules(country=None).is_open(at(2026, 1, 12, 10))


def test_it_judges_the_window_in_the_senders_time_zone():
    r = rules()
    # 23:30 UTC on Friday is 18:30 in Bogotá: open.
    assert r.is_open(datetime(2026, 1, 2, 23, 30, tzinfo=ZoneInfo("UTC")))
    # 00:30 UTC on Saturday is 19:30 Friday in Bogotá: closed.
    assert not r.is_open(datetime(2026, 1, 3, 0, 30, tzinfo=ZoneInfo("UTC")))


def test_it_finds_the_next_window_after_a_weekend():
    assert rules().next_open(at(2026, 1, 2, 19, 0)) == at(2026, 1, 5, 9, 0)


def test_it_finds_the_next_window_after_midnight():
    assert rules().next_open(at(2026, 1, 6, 0, 0)) == at(2026, 1, 6, 9, 0)
    assert rules().next_open(at(2026, 1, 5, 23, 59, 59)) == at(2026, 1, 6, 9, 0)


def test_it_skips_a_holiday_monday():
    assert rules().next_open(at(2026, 1, 9, 19, 0)) == at(2026, 1, 13, 9, 0)


def test_it_keeps_local_hours_across_a_dst_change():
    r = rules(tz=NY, country=None)
    # 8 March 2026: clocks in New York jump from 02:00 to 03:00 (Sunday).
    friday_close = datetime(2026, 3, 6, 19, 0, tzinfo=NY)
    monday = r.next_open(friday_close)
    assert monday == datetime(2026, 3, 9, 9, 0, tzinfo=NY)
    assert monday.utcoffset().total_seconds() == -4 * 3600  # EDT after the change
    assert friday_close.utcoffset().total_seconds() == -5 * 3600


def test_it_waits_for_tomorrow_when_today_is_full():
    when = next_send_time(at(2026, 1, 5, 11, 0), rules(), today_full=True)
    assert when == at(2026, 1, 6, 9, 0)


def test_it_respects_the_pacing_slot():
    slot = at(2026, 1, 5, 11, 0, 10)
    assert next_send_time(at(2026, 1, 5, 11, 0), rules(), today_full=False, not_before=slot) == slot


def test_it_forecasts_the_seed_week():
    finish = forecast_completion(
        100, at(2026, 1, 2, 9, 0), rules(), daily_limit=20, sender_cap=30, delay_seconds=10
    )
    assert finish == date(2026, 1, 8)


def test_it_forecasts_never_when_the_promotion_ends_first():
    finish = forecast_completion(
        100,
        at(2026, 1, 2, 9, 0),
        rules(),
        daily_limit=20,
        sender_cap=30,
        delay_seconds=10,
        last_day=date(2026, 1, 6),
    )
    assert finish is None


def test_it_counts_what_was_already_sent_today():
    finish = forecast_completion(
        20,
        at(2026, 1, 2, 12, 0),
        rules(),
        daily_limit=20,
        sender_cap=30,
        delay_seconds=10,
        used_today=20,
    )
    assert finish == date(2026, 1, 5)


def test_it_describes_moments_in_spanish():
    now = at(2026, 1, 2, 19, 30)
    assert describe_moment(at(2026, 1, 3, 9, 0), now, BOG) == "mañana 09:00"
    assert describe_moment(at(2026, 1, 5, 9, 0), now, BOG) == "lunes 09:00"
    assert describe_day(date(2026, 1, 8)) == "jueves 8 de enero de 2026"
