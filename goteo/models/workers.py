"""Worker heartbeats: which ``run_worker`` processes are alive, and since when."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from goteo.writes import write_transaction


class WorkerHeartbeat(models.Model):
    """One ``run_worker`` process, as it last reported itself.

    The row is written in its own small transaction every few seconds, so
    ``campaign_status`` and the dashboard can tell whether anyone is sending.
    """

    name = models.CharField(_("nombre"), max_length=100, unique=True)
    hostname = models.CharField(_("equipo"), max_length=100, blank=True)
    pid = models.PositiveIntegerField(_("proceso"), default=0)
    started_at = models.DateTimeField(_("iniciado"))
    last_seen_at = models.DateTimeField(_("visto por última vez"), db_index=True)
    stopped_at = models.DateTimeField(_("detenido"), null=True, blank=True)
    senders = models.PositiveIntegerField(_("números enviando"), default=0)
    sent = models.PositiveIntegerField(_("enviados desde el inicio"), default=0)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("proceso de envío automático")
        verbose_name_plural = _("procesos de envío automático")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def beat(cls, name: str, now: datetime, **fields: Any) -> None:
        """Record that worker ``name`` is alive at ``now`` (creating its row once)."""
        with write_transaction():
            updated = cls.objects.filter(name=name).update(last_seen_at=now, **fields)
            if not updated:
                row = WorkerHeartbeat(name=name, started_at=now, last_seen_at=now, **fields)
                WorkerHeartbeat.objects.bulk_create([row], ignore_conflicts=True)

    @classmethod
    def alive(cls, now: datetime, within_seconds: float) -> models.QuerySet[WorkerHeartbeat]:
        """Workers seen in the last ``within_seconds`` that have not said they stopped."""
        return cls.objects.filter(
            stopped_at__isnull=True, last_seen_at__gte=now - timedelta(seconds=within_seconds)
        )

    @classmethod
    def last_seen(cls) -> datetime | None:
        """When any worker was last seen, or None if none ever ran."""
        last: datetime | None = cls.objects.aggregate(last=models.Max("last_seen_at"))["last"]
        return last

    @classmethod
    def forget_old(cls, now: datetime, days: int = 30) -> int:
        """Delete the rows of workers gone for more than ``days`` days."""
        deleted, _rows = cls.objects.filter(last_seen_at__lt=now - timedelta(days=days)).delete()
        return deleted
