"""A date's month and day («03-10»), worked out by the database itself.

Birthdays are found by month and day. Django's ``__month`` and ``__day`` lookups are Python
functions that SQLite calls once per row and lookup; over 100,000 contacts a birthday query
made a million such calls. This expression is one native SQL function on each database.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date
from typing import Any

from django.db.models import CharField, Func, Q
from django.db.models.lookups import In


class MonthDay(Func):
    """``MM-DD`` of a date column (SQLite stores dates as ISO text; PostgreSQL formats them)."""

    arity = 1
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # %% four times: the template is formatted once here and once more by the driver.
        return super().as_sql(
            compiler, connection, template="strftime('%%%%m-%%%%d', %(expressions)s)", **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="to_char(%(expressions)s, 'MM-DD')", **extra)


def birthdays_on(days: Collection[date], field: str = "birth_date") -> Q:
    """The people whose birthday falls on one of ``days``: the month and day of ``field``.

    In a year without 29 February, whoever was born that day has their birthday on the 28th.
    """
    wanted = {f"{day:%m-%d}" for day in days}
    if any(day.month == 2 and day.day == 28 and not calendar.isleap(day.year) for day in days):
        wanted.add("02-29")
    return Q(In(MonthDay(field), sorted(wanted))) if wanted else Q(pk__in=[])
