"""A date's month and day («03-10»), worked out by the database itself.

Birthdays are found by month and day. Django's ``__month`` and ``__day`` lookups are Python
functions that SQLite calls once per row and lookup; over 100,000 contacts a birthday query
made a million such calls. This expression is one native SQL function on each database.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def on_days(field: str, days: Iterable[date]) -> Q:
    """The rows whose ``field`` falls on the month and day of one of ``days`` (any year)."""
    wanted = sorted({f"{day:%m-%d}" for day in days})
    return Q(In(MonthDay(field), wanted)) if wanted else Q(pk__in=[])
