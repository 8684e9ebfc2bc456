"""Warm-up of a new WhatsApp number: its daily cap ramps up week by week.

A number with no history that starts sending promotions at full speed is the pattern
WhatsApp restricts first (docs/compliance.md cites the reports). A sender marked new
(``Sender.warmup_started_on``) may send at most 5 a day in its first week, 10 in its
second and 20 in its third, never more than its own cap, and then its configured cap.
GOTEO_WARMUP_SCHEDULE changes the weekly caps ("5,10,20").

Pure functions of their inputs, apart from ``warmup_schedule`` reading the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext

from goteo.conf import env_str

DEFAULT_SCHEDULE = (5, 10, 20)
STAGE_DAYS = 7


@dataclass(frozen=True)
class WarmupStage:
    """Where a warming number stands on one day."""

    week: int  # 1-based
    weeks: int
    cap: int  # the most it may send that day
    ends_on: date  # the last day of this week

    def describe(self) -> str:
        """ "semana 1 de 3: máximo 5 al día hasta el 08/01/2026"."""
        return gettext("semana %(week)s de %(weeks)s: máximo %(cap)s al día hasta el %(day)s") % {
            "week": self.week,
            "weeks": self.weeks,
            "cap": self.cap,
            "day": f"{self.ends_on:%d/%m/%Y}",
        }


def parse_schedule(text: str) -> tuple[int, ...]:
    """ "5,10,20" -> (5, 10, 20); each a positive whole number."""
    try:
        caps = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(
            gettext("GOTEO_WARMUP_SCHEDULE=%(value)s: use máximos diarios por semana, p. ej. 5,10,20.")
            % {"value": repr(text)}
        ) from None
    if not caps or any(cap < 1 for cap in caps):
        raise ValueError(
            gettext("GOTEO_WARMUP_SCHEDULE=%(value)s: indique al menos una semana, cada una con 1 o más.")
            % {"value": repr(text)}
        )
    return caps


def warmup_schedule() -> tuple[int, ...]:
    """The installation's weekly caps: settings.GOTEO_WARMUP_SCHEDULE, else the environment."""
    from django.conf import settings

    raw = getattr(settings, "GOTEO_WARMUP_SCHEDULE", None) or env_str("GOTEO_WARMUP_SCHEDULE")
    return parse_schedule(raw) if raw else DEFAULT_SCHEDULE


def warmup_stage(
    started_on: date | None,
    day: date,
    daily_cap: int,
    schedule: tuple[int, ...] = DEFAULT_SCHEDULE,
) -> WarmupStage | None:
    """The warm-up stage on ``day`` for a number warming since ``started_on``; None once over.

    ``started_on`` is day 1. Days before it count as the first week, so a number marked
    new ahead of time is not sent at full speed.
    """
    if started_on is None:
        return None
    week = max((day - started_on).days, 0) // STAGE_DAYS
    if week >= len(schedule):
        return None
    ends_on = started_on + timedelta(days=(week + 1) * STAGE_DAYS - 1)
    return WarmupStage(week + 1, len(schedule), min(schedule[week], daily_cap), ends_on)


def warmup_cap(
    daily_cap: int,
    started_on: date | None,
    day: date,
    schedule: tuple[int, ...] = DEFAULT_SCHEDULE,
) -> int:
    """How many messages a number may send on ``day``: its cap, lowered while it warms up."""
    stage = warmup_stage(started_on, day, daily_cap, schedule)
    return stage.cap if stage else daily_cap


def warmup_ends_on(started_on: date, schedule: tuple[int, ...] = DEFAULT_SCHEDULE) -> date:
    """The first day at the full configured cap."""
    return started_on + timedelta(days=len(schedule) * STAGE_DAYS)
