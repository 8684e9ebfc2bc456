"""When a campaign may send: windows, sending days, public holidays and forecasts.

Pure functions of their inputs, with the clock passed in; nothing here touches the
database or sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext

# A campaign's sending days, as stored (``send_days``) and as ``date.weekday()`` counts them.
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

SPANISH_WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
SPANISH_MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
SEARCH_DAYS = 800  # how far ahead to look for an open day before giving up


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def is_holiday(day: date, country: str) -> bool:
    """True when ``day`` is a public holiday in ``country`` (ISO code, e.g. CO)."""
    return day in _holidays(country.upper(), day.year)


def check_country(country: str) -> str:
    """The country code if the holidays library knows it; a clear error otherwise."""
    code = country.strip().upper()
    if code not in holidays.list_supported_countries():
        raise ValueError(f"País de festivos desconocido {country!r} (use un código ISO como CO o ES).")
    return code


@dataclass(frozen=True)
class SendingRules:
    """A daily window [start, end) on some weekdays, optionally skipping holidays.

    ``day_limits`` (one entry per weekday, Monday first) narrows the window on each day to
    the hours the law allows (goteo.compliance); a None entry closes that day.
    """

    window_start: time
    window_end: time
    weekdays: frozenset[int]
    tz: ZoneInfo
    holidays_country: str | None = None
    day_limits: tuple[tuple[time, time] | None, ...] | None = None

    def window_on(self, day: date) -> tuple[time, time] | None:
        """The window on ``day`` after the legal limits, or None when nothing is left."""
        start, end = self.window_start, self.window_end
        if self.day_limits is not None:
            limit = self.day_limits[day.weekday()]
            if limit is None:
                return None
            start, end = max(start, limit[0]), min(end, limit[1])
        return (start, end) if start < end else None

    def is_sending_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays or self.window_on(day) is None:
            return False
        return not (self.holidays_country and is_holiday(day, self.holidays_country))

    def opens_on(self, day: date) -> datetime:
        window = self.window_on(day) or (self.window_start, self.window_end)
        return datetime.combine(day, window[0], tzinfo=self.tz)

    def closes_on(self, day: date) -> datetime:
        window = self.window_on(day) or (self.window_start, self.window_end)
        return datetime.combine(day, window[1], tzinfo=self.tz)

    def is_open(self, now: datetime) -> bool:
        """True when a message may be sent at ``now`` (19:00 itself is closed)."""
        local = now.astimezone(self.tz)
        if not self.is_sending_day(local.date()):
            return False
        start, end = self.window_on(local.date()) or (self.window_start, self.window_end)
        return start <= local.time() < end

    def next_open(self, now: datetime) -> datetime | None:
        """``now`` when open, else the start of the next window; None if there is none."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.tz)
        day = local.date()
        for _ in range(SEARCH_DAYS):
            if self.is_sending_day(day):
                start = self.opens_on(day)
                if start > now:
                    return start
                if self.closes_on(day) > now:  # inside today's window (DST edge)
                    return now
            day += timedelta(days=1)
        return None

    def window_seconds(self, day: date | None = None) -> float:
        """The window's length: on ``day`` after the legal limits, or the campaign's own."""
        start, end = self.window_start, self.window_end
        if day is not None:
            start, end = self.window_on(day) or (start, start)
        base = date(2001, 1, 1)
        return (datetime.combine(base, end) - datetime.combine(base, start)).total_seconds()


def start_of_next_day(now: datetime, tz: ZoneInfo) -> datetime:
    """Local midnight after ``now``."""
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)


def end_of_day(now: datetime, tz: ZoneInfo) -> datetime:
    return start_of_next_day(now, tz)


def next_send_time(
    now: datetime,
    rules: SendingRules,
    *,
    today_full: bool,
    not_before: datetime | None = None,
) -> datetime | None:
    """When the next message may go out: pacing, the day's cap and the window together."""
    candidate = now
    if not_before is not None and not_before > candidate:
        candidate = not_before
    if today_full:
        candidate = max(candidate, start_of_next_day(now, rules.tz))
    return rules.next_open(candidate)


def forecast_completion(
    pending: int,
    now: datetime,
    rules: SendingRules,
    *,
    daily_limit: int,
    sender_cap: Callable[[date], int] | int,
    delay_seconds: float,
    used_today: int = 0,
    last_day: date | None = None,
    waiting: Mapping[date, int] | None = None,
) -> date | None:
    """The local day the last pending message should go out, or None if never.

    Each sending day carries min(daily limit, the sender's cap that day, what fits in
    the window at the delay). ``used_today`` is what was already sent today. ``waiting``
    counts pending messages that cannot go out before a given day (a retry's backoff, the
    frequency cap). Stops at ``last_day`` (the promotion's expiry) or after a long search.
    """
    if pending <= 0:
        return now.astimezone(rules.tz).date()
    days = forecast_days(
        pending,
        now,
        rules,
        daily_limit=daily_limit,
        sender_cap=sender_cap,
        delay_seconds=delay_seconds,
        used_today=used_today,
        last_day=last_day,
        waiting=waiting,
    )
    for day, _sent, remaining in days:
        if remaining <= 0:
            return day
    return None


def forecast_days(
    pending: int,
    now: datetime,
    rules: SendingRules,
    *,
    daily_limit: int,
    sender_cap: Callable[[date], int] | int,
    delay_seconds: float,
    used_today: int = 0,
    last_day: date | None = None,
    waiting: Mapping[date, int] | None = None,
) -> Iterator[tuple[date, int, int]]:
    """(day, messages it should send, pending after it) for each sending day from today,
    as ``forecast_completion`` counts them; ends when nothing is left, at ``last_day``,
    or after a long search."""
    fixed_cap = sender_cap if isinstance(sender_cap, int) else 0

    def cap_for(day: date) -> int:
        return sender_cap(day) if callable(sender_cap) else fixed_cap

    local = now.astimezone(rules.tz)
    day = local.date()
    remaining = pending
    held = sorted((waiting or {}).items())
    ready = remaining - sum(n for _day, n in held)
    for _ in range(SEARCH_DAYS):
        if remaining <= 0 or (last_day is not None and day > last_day):
            return
        while held and held[0][0] <= day:
            ready += held.pop(0)[1]
        if rules.is_sending_day(day):
            per_window = int(rules.window_seconds(day) // max(delay_seconds, 1)) or 1
            capacity = min(daily_limit, cap_for(day), per_window)
            if day == local.date():
                if now >= rules.closes_on(day):
                    capacity = 0
                else:
                    open_from = max(now, rules.opens_on(day))
                    left = (rules.closes_on(day) - open_from).total_seconds()
                    capacity = max(0, min(capacity - used_today, int(left // max(delay_seconds, 1)) + 1))
            sent = min(capacity, max(ready, 0))
            ready -= sent
            remaining -= sent
            yield day, sent, remaining
        day += timedelta(days=1)


def describe_moment(when: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """Spanish words for a moment: "hoy 14:30", "mañana 09:00", "lunes 09:00", "12/01 09:00"."""
    if when is None:
        return "—"
    local = when.astimezone(tz)
    today = now.astimezone(tz).date()
    hour = local.strftime("%H:%M")
    delta = (local.date() - today).days
    if delta <= 0:
        return f"hoy {hour}" if when > now else "ahora"
    if delta == 1:
        return f"mañana {hour}"
    if delta < 7:
        return f"{SPANISH_WEEKDAYS[local.weekday()]} {hour}"
    return f"{local.strftime('%d/%m/%Y')} {hour}"


def describe_start(when: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "el martes 15 a las 09:00" (with the month, "de enero", when it is not this month's),
    in the language that is active ("on Tuesday 15 at 09:00" in English)."""
    local, today = when.astimezone(tz), now.astimezone(tz).date()
    words = {
        "weekday": WEEKDAYS[local.weekday()],
        "day": local.day,
        "month": MONTHS[local.month],
        "year": local.year,
        "time": f"{local:%H:%M}",
    }
    if local.year != today.year:
        return gettext("el %(weekday)s %(day)s de %(month)s de %(year)s a las %(time)s") % words
    if local.month != today.month:
        return gettext("el %(weekday)s %(day)s de %(month)s a las %(time)s") % words
    return gettext("el %(weekday)s %(day)s a las %(time)s") % words


def describe_day(day: date | None) -> str:
    """ "jueves 8 de enero de 2026"."""
    if day is None:
        return "—"
    return f"{SPANISH_WEEKDAYS[day.weekday()]} {day.day} de {SPANISH_MONTHS[day.month - 1]} de {day.year}"


def parse_days(text: str) -> list[str]:
    """``"mon,tue,fri"`` (or Spanish ``lun,mar,vie``) to canonical day names; rejects typos."""
    spanish = {
        "lun": "mon",
        "mar": "tue",
        "mie": "wed",
        "mié": "wed",
        "jue": "thu",
        "vie": "fri",
        "sab": "sat",
        "sáb": "sat",
        "dom": "sun",
    }
    days: list[str] = []
    for raw in text.split(","):
        word = raw.strip().lower()
        word = spanish.get(word, word[:3] if word[:3] in DAY_NAMES else word)
        if word not in DAY_NAMES:
            raise ValueError(
                f"Día desconocido {raw.strip()!r}; use {','.join(DAY_NAMES)} (o lun,mar,mie,jue,vie,sab,dom)."
            )
        if word not in days:
            days.append(word)
    if not days:
        raise ValueError("Indique al menos un día de envío.")
    return sorted(days, key=DAY_NAMES.index)
