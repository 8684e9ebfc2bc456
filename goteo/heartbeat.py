"""Who is sending: live workers, scheduled runs, and a warning when nobody is.

``run_worker`` writes a heartbeat every few seconds; each ``process_campaigns`` run (the
cron or Task Scheduler way) writes one that says it stopped when it ends. From those rows
``campaign_status`` and the dashboard say "Worker activo hace 5 s", or warn when a
campaign could send right now and nobody has sent for a while, or when a sending window
went by today with nobody there.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from goteo.clock import Clock
from goteo.forecast import next_send_at
from goteo.models import Campaign, CampaignStatus, Message, WorkerHeartbeat

ALIVE_SECONDS = 90.0  # a worker unseen for longer is considered stopped
SCHEDULED_GRACE = timedelta(minutes=20)  # a scheduled run this recent still counts as attending
SCHEDULED_PREFIX = "process_campaigns@"


def scheduled_run_name() -> str:
    """The heartbeat name of ``process_campaigns`` on this machine."""
    return f"{SCHEDULED_PREFIX}{socket.gethostname()}"[:100]


def record_scheduled_run(now: datetime, *, running: bool = False) -> None:
    """Note that a one-shot ``process_campaigns`` ran at ``now``: still sending, or ended."""
    WorkerHeartbeat.beat(
        scheduled_run_name(),
        now,
        hostname=socket.gethostname()[:100],
        pid=os.getpid(),
        stopped_at=None if running else now,
    )


class ScheduledRun:
    """The heartbeat of one ``process_campaigns`` run: written when it starts, renewed as it
    sends, and marked stopped when it ends. A first run of the day that paces twenty messages
    a minute apart takes twenty minutes; beating only at the end left the dashboard saying
    nobody had come while the messages were going out."""

    EVERY = timedelta(seconds=30)

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.next_beat: datetime | None = None

    def start(self) -> None:
        self.still_running(force=True)

    def still_running(self, *, force: bool = False) -> None:
        now = self.clock.now()
        if force or self.next_beat is None or now >= self.next_beat:
            record_scheduled_run(now, running=True)
            self.next_beat = now + self.EVERY

    def finish(self) -> None:
        record_scheduled_run(self.clock.now())


def last_sent_at(campaign: Campaign, now: datetime) -> datetime | None:
    """When ``campaign`` last sent a message (one step down its (campaign, sent_at) index)."""
    return (
        Message.objects.filter(campaign=campaign, sent_at__lte=now)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )


def worker_status(now: datetime) -> dict[str, Any]:
    """Live workers, the last run seen, and a warning: "", "open" or "missed"."""
    alive = list(WorkerHeartbeat.alive(now, ALIVE_SECONDS).order_by("-last_seen_at"))
    last = alive[0] if alive else WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    last_seen = last.last_seen_at if last else None
    status: dict[str, Any] = {
        "alive": len(alive),
        "last_seen_at": last_seen,
        "seconds_ago": (now - last_seen).total_seconds() if last_seen else None,
        "names": [w.name for w in alive],
        "last_scheduled": bool(last and last.name.startswith(SCHEDULED_PREFIX)),
        "warning": "",
    }
    if alive or (last_seen is not None and now - last_seen <= SCHEDULED_GRACE):
        return status
    open_now, missed_today = unattended(now, last_seen)
    if open_now:
        status["warning"] = "open"
    elif missed_today:
        status["warning"] = "missed"
    return status


def unattended(now: datetime, last_seen: datetime | None) -> tuple[bool, bool]:
    """(a campaign could send right now, one's window today went by with nobody there)."""
    missed = False
    campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE, pending_count__gt=0).select_related(
        "sender", "promotion"
    )
    for campaign in campaigns:
        # A message the campaign sent is proof someone was there, heartbeat or not (a run
        # that has not written its beat yet, a sender started some other way).
        sent = last_sent_at(campaign, now)
        when = next_send_at(campaign, now)
        if when is not None and when <= now and (sent is None or now - sent > SCHEDULED_GRACE):
            return True, missed
        rules = campaign.sending_rules()
        today = now.astimezone(rules.tz).date()
        opened = rules.opens_on(today)
        seen = max((t for t in (last_seen, sent) if t is not None), default=None)
        if rules.is_sending_day(today) and opened <= now and (seen is None or seen < opened):
            missed = True
    return False, missed


def ago(seconds: float) -> str:
    """Elapsed time in words: 5 s, 3 min, 2 h, 4 días."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    days = seconds // 86400
    return ngettext("%(n)d día", "%(n)d días", days) % {"n": days}


def worker_status_text(now: datetime, status: dict[str, Any] | None = None) -> str:
    """One line for campaign_status and the dashboard: "Worker activo hace 5 s", or a warning."""
    status = status or worker_status(now)
    when = ago(status["seconds_ago"]) if status["last_seen_at"] else ""
    if status["alive"] == 1:
        return _("Worker activo hace %(ago)s (%(name)s).") % {"ago": when, "name": status["names"][0]}
    if status["alive"] > 1:
        return _("%(n)d workers activos; el último se vio hace %(ago)s.") % {
            "n": status["alive"],
            "ago": when,
        }
    if not status["last_seen_at"]:
        seen = _("nunca se ha iniciado uno")
    elif status["last_scheduled"]:
        seen = _("el último process_campaigns corrió hace %(ago)s") % {"ago": when}
    else:
        seen = _("el último se vio hace %(ago)s") % {"ago": when}
    if status["warning"] == "open":
        return _(
            "⚠ Ningún worker activo (%(seen)s) y hay campañas que podrían enviar ahora: no sale "
            "nada. Inicie uno con «goteo run_worker» o programe «goteo process_campaigns»."
        ) % {"seen": seen}
    if status["warning"] == "missed":
        return _(
            "⚠ Hoy no hubo ningún worker durante el horario de envío (%(seen)s): lo de hoy "
            "no salió. Inicie uno con «goteo run_worker»."
        ) % {"seen": seen}
    if status["last_scheduled"]:
        return _("Envío programado: %(seen)s.") % {"seen": seen}
    return _("Worker: ninguno activo (%(seen)s).") % {"seen": seen}


def sending_text(now: datetime, status: dict[str, Any], last_sent: datetime | None = None) -> str:
    """The same facts for the shop owner: whether sending goes on by itself, in plain words.

    ``last_sent`` is the last message the page's campaigns sent, when the caller knows it.
    """
    sent = (
        _("último envío hace %(ago)s") % {"ago": ago((now - last_sent).total_seconds())} if last_sent else ""
    )
    seen = status["last_seen_at"]
    if status["warning"] == "open":
        since = (
            _("se vio funcionando por última vez hace %(ago)s") % {"ago": ago(status["seconds_ago"])}
            if seen
            else _("todavía no ha funcionado nunca")
        )
        return _(
            "⚠ El envío automático está detenido (%(since)s) y hay promociones que deberían estar "
            "saliendo ahora: no sale nada. Avise a quien instaló goteo."
        ) % {"since": since}
    if status["warning"] == "missed":
        return _(
            "⚠ Hoy el envío automático no funcionó durante el horario de envío: lo de hoy no salió. "
            "Avise a quien instaló goteo."
        )
    attending = status["alive"] or (seen is not None and now - seen <= SCHEDULED_GRACE)
    if attending:
        return (
            _("Envío automático: activo, %(sent)s.") % {"sent": sent}
            if sent
            else _("Envío automático: activo.")
        )
    if sent:
        return _("Envío automático: en espera, %(sent)s.") % {"sent": sent}
    return _("Envío automático: en espera.")
