"""An automation's trigger: when a person's date makes them due, and which occurrence that is.

A trigger is written as text, on the command line and in the campaign's ``trigger`` field:

- ``birthday``: on the person's birthday (29 February counts on 28 February in other years);
  the occurrence is the year.
- ``days-since:last_visit:365``: once at least 365 days have passed since the date; the
  occurrence is the date itself, so a new date starts a new occurrence.

Days are the sending number's days (its time zone): the caller passes ``today`` there.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from goteo.month_day import birthdays_on

BIRTHDAY = "birthday"
DAYS_SINCE = "days-since"
# The contact's dates a days-since trigger may count from, with their names for the shop.
DATE_FIELDS = {
    "last_visit": gettext_lazy("su última visita"),
    "birth_date": gettext_lazy("su fecha de nacimiento"),
}
MAX_DAYS = 3660  # ten years


class TriggerError(ValueError):
    """A trigger goteo cannot read; the message says why, in Spanish."""


@dataclass(frozen=True)
class Due:
    """One person's occurrence: its key (unique per automation and person) and the day it falls on."""

    key: str
    day: date


@dataclass(frozen=True)
class Trigger:
    kind: str
    field: str = "birth_date"
    days: int = 0

    @property
    def spec(self) -> str:
        """The trigger written as text, as it is stored."""
        return BIRTHDAY if self.kind == BIRTHDAY else f"{DAYS_SINCE}:{self.field}:{self.days}"

    def describe(self) -> str:
        """The trigger in the shop's words: «el día de su cumpleaños»."""
        if self.kind == BIRTHDAY:
            return _("el día de su cumpleaños")
        return _("%(n)s días después de %(fecha)s") % {"n": self.days, "fecha": DATE_FIELDS[self.field]}

    def due(self, value: date | None, today: date, grace_days: int) -> Due | None:
        """The occurrence the person is due for on ``today``, or None.

        A birthday is due from its day until ``grace_days`` after it (a run missed on the day
        still greets, never later); a days-since trigger from the day the days are over.
        """
        if value is None:
            return None
        if self.kind == BIRTHDAY:
            for year in (today.year, today.year - 1):
                if year <= value.year:
                    continue  # the day of birth itself is no birthday
                day = birthday_in(year, value)
                if day <= today <= day + timedelta(days=grace_days):
                    return Due(str(year), day)
            return None
        day = value + timedelta(days=self.days)
        return Due(value.isoformat(), day) if day <= today else None

    def last_day(self, due: Due, enrolled: date, grace_days: int) -> date:
        """The last day the message may go out: a birthday's grace counts from the birthday,
        a reminder's from the day the person was enrolled."""
        start = due.day if self.kind == BIRTHDAY else max(due.day, enrolled)
        return start + timedelta(days=grace_days)

    def query(self, today: date, grace_days: int) -> Q:
        """A filter over Contact that keeps at least everyone ``due`` on ``today``."""
        if self.kind != BIRTHDAY:
            return Q(**{f"{self.field}__lte": today - timedelta(days=self.days)})
        return birthdays_on([today - timedelta(days=back) for back in range(min(grace_days, 366) + 1)])

    def date_of(self, birth_date: date | None, last_visit: date | None) -> date | None:
        """The contact's date this trigger counts from."""
        return birth_date if self.kind == BIRTHDAY or self.field == "birth_date" else last_visit


def birthday_in(year: int, born: date) -> date:
    """The birthday in ``year``; 29 February falls on 28 February when the year has none."""
    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)


def parse_trigger(spec: str) -> Trigger:
    """Read ``birthday`` or ``days-since:CAMPO:DÍAS``; TriggerError says what is wrong."""
    text = (spec or "").strip()
    if text == BIRTHDAY:
        return Trigger(BIRTHDAY)
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != DAYS_SINCE:
        raise TriggerError(f"Disparador desconocido «{text}»: use «birthday» o «days-since:last_visit:365».")
    _kind, field, days = parts
    if field not in DATE_FIELDS:
        raise TriggerError(f"Fecha desconocida «{field}» en el disparador: use {' o '.join(DATE_FIELDS)}.")
    if not days.isdecimal() or not 1 <= int(days) <= MAX_DAYS:  # isdigit takes «²», int() does not
        raise TriggerError(f"Días inválidos «{days}» en el disparador: un número entre 1 y {MAX_DAYS}.")
    return Trigger(DAYS_SINCE, field, int(days))
