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

from goteo.models import Campaign, CampaignStatus, WorkerHeartbeat
from goteo.status import next_send_at, sending_rules

ALIVE_SECONDS = 90.0  # a worker unseen for longer is considered stopped
SCHEDULED_GRACE = timedelta(minutes=20)  # a scheduled run this recent still counts as attending
SCHEDULED_PREFIX = "process_campaigns@"


def scheduled_run_name() -> str:
    """The heartbeat name of ``process_campaigns`` on this machine."""
    return f"{SCHEDULED_PREFIX}{socket.gethostname()}"[:100]


def record_scheduled_run(now: datetime) -> None:
    """Note that a one-shot ``process_campaigns`` ran (and ended) at ``now``."""
    WorkerHeartbeat.beat(
        scheduled_run_name(), now, hostname=socket.gethostname()[:100], pid=os.getpid(), stopped_at=now
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
        when = next_send_at(campaign, now)
        if when is not None and when <= now:
            return True, missed
        rules = sending_rules(campaign)
        today = now.astimezone(rules.tz).date()
        opened = rules.opens_on(today)
        if rules.is_sending_day(today) and opened <= now and (last_seen is None or last_seen < opened):
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
