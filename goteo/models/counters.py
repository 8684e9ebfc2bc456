"""Per-day counters that enforce the daily caps under concurrency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

RESERVE = (  # PostgreSQL and SQLite (3.24 and later) alike
    "INSERT INTO goteo_dailycounter (scope, day, used) VALUES (%s, %s, 1) ON CONFLICT (scope, day)"
    " DO UPDATE SET used = goteo_dailycounter.used + 1 WHERE goteo_dailycounter.used < %s"
)


class DailyCounter(models.Model):
    """How many sends a scope (a sender or a campaign) has reserved on one local day.

    A slot is reserved with a conditional increment in the same transaction as the claim,
    so two workers can never both take the last slot.
    """

    scope = models.CharField(_("de quién"), max_length=64)
    day = models.DateField(_("día"))
    used = models.PositiveIntegerField(_("envíos reservados"), default=0)

    class Meta:
        verbose_name = _("cupo diario usado")
        verbose_name_plural = _("cupos diarios usados")
        constraints = [
            models.UniqueConstraint(fields=["scope", "day"], name="goteo_counter_scope_day"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.day}: {self.used}"

    @staticmethod
    def reserve(scope: str, day: date, cap: int) -> bool:
        """Take one slot if fewer than ``cap`` are used; True when a slot was taken."""
        if cap <= 0:
            return False
        # One statement whether or not the day's row exists yet (the day's first send).
        with connection.cursor() as cursor:
            cursor.execute(RESERVE, [scope, connection.ops.adapt_datefield_value(day), cap])
            taken: bool = cursor.rowcount == 1
            return taken

    @classmethod
    def release(cls, scope: str, day: date) -> None:
        """Give back a slot whose message was definitely not sent."""
        cls.objects.filter(scope=scope, day=day, used__gt=0).update(used=F("used") - 1)

    @classmethod
    def used_by(cls, wanted: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]:
        """Slots used by each (scope, day) in ``wanted`` that has any, in one query."""
        wanted = set(wanted)
        scopes, days = {scope for scope, _ in wanted}, {day for _, day in wanted}
        rows = cls.objects.filter(scope__in=scopes, day__in=days).values_list("scope", "day", "used")
        return {(scope, day): used for scope, day, used in rows if (scope, day) in wanted}

    @classmethod
    def used_on(cls, scope: str, day: date) -> int:
        """Slots used by ``scope`` on ``day``."""
        row = cls.objects.filter(scope=scope, day=day).values_list("used", flat=True).first()
        return row or 0
