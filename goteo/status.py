"""Where a campaign stands, said for the commands and the dashboard: counts, percentages, the
next send and the day it should finish, as words.

Only presentation: the rules and forecasts it shows live in goteo.forecast and
goteo.frequency. Everything here reads the counters kept on the campaign and sender rows,
never scans the message table, so it stays fast with millions of messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from goteo.automations import automation_fields
from goteo.draft import scheduled_outlook
from goteo.forecast import campaign_forecast, next_send_at
from goteo.frequency import held_messages
from goteo.funnel import results
from goteo.models import Campaign, CampaignStatus
from goteo.progress import campaign_progress
from goteo.risk import Risk
from goteo.schedule import describe_day, describe_moment, describe_start


def campaign_summary(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Counts, percentages, next send and forecast: what campaign_status and the dashboard show."""
    counts = campaign.counts()
    total = counts["total"]
    held = held_messages(campaign, now) if counts["pending"] else {}
    when = next_send_at(campaign, now, held)
    forecast = campaign_forecast(campaign, now, held) if campaign.status == CampaignStatus.ACTIVE else None
    if campaign.status == CampaignStatus.SCHEDULED:  # no messages yet: as if launched at its start
        when, forecast = scheduled_outlook(campaign, now)
    tz = campaign.sender.tz
    warmup = campaign.sender.warmup_stage(campaign.local_today(now))

    def pct(n: int) -> int:
        return round(100 * n / total) if total else 0

    progress = campaign_progress(counts)
    scheduled = campaign.status == CampaignStatus.SCHEDULED

    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "status_label": str(campaign.get_status_display()),
        "pause_reason": campaign.pause_reason,
        "total": total,
        "sent": counts["sent"],
        "pending": counts["pending"],
        "sending": counts["sending"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "unknown": counts["unknown"],
        "simulated": counts["simulated"],  # printed in test mode, never sent (goteo.simulation)
        "simulation": campaign.simulation,
        "percent": pct(counts["sent"]),
        "percent_simulated": progress.share(counts["simulated"]),
        "percent_pending": progress.share(counts["pending"]),
        "receivable": progress.receivable,
        "progress_percent": progress.percent,
        "next_send_at": when,
        "next_send_text": describe_moment(when, now, tz),
        "estimated_completion": forecast if counts["pending"] or scheduled else None,
        "estimated_completion_text": describe_day(forecast) if counts["pending"] or scheduled else "—",
        "start_at": campaign.start_at,
        "start_text": (
            f"empieza {describe_start(campaign.start_at, now, tz)}" if scheduled and campaign.start_at else ""
        ),
        "end_at": campaign.end_at,
        "daily_limit": campaign.daily_limit,
        "sender": campaign.sender.name,
        "frequency_held": len(held),
        "frequency_held_until": min(held.values()) if held else None,
        "warmup": warmup.describe() if warmup else "",
        **automation_fields(campaign),
    } | results(campaign)


# What ``campaign_status --json`` and the API's status say of a campaign, in this order.
JSON_KEYS = [
    "id",
    "name",
    "status",
    "total",
    "sent",
    "pending",
    "failed",
    "skipped",
    "unknown",
    "simulated",
    "simulation",
    "delivered",
    "read",
    "replied",
    "redeemed",
    "opted_out",
    "next_send_at",
    "estimated_completion",
    "frequency_held",
    "warmup",
]
# An automation's own keys, in its summary only (goteo.automations).
AUTOMATION_KEYS = ["automation", "trigger", "trigger_label", "grace_days"]


def status_data(summary: dict[str, Any], risk: Risk) -> dict[str, Any]:
    """A campaign's status for programs: ``campaign_status --json`` and the API's status."""
    return (
        {k: summary[k] for k in JSON_KEYS}
        | {k: summary[k] for k in AUTOMATION_KEYS if k in summary}
        | {
            "percent": summary["percent"],
            "receivable": summary["receivable"],
            "progress_percent": summary["progress_percent"],
            "sender_risk": risk.as_dict(),
        }
    )
