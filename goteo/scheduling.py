"""Campaigns scheduled ahead: they wait, "Programada", and start on their own at ``start_at``.

A scheduled campaign is a draft with a date: it has no messages yet, so it can still be edited
or cancelled. At its start the sending run (``process_campaigns`` or the worker) launches it
as the owner would have, with the audience as it is at that moment. A campaign's ``end_at``
is its last moment: what remains pending then is skipped with the reason "la campaña
terminó" (the expiry housekeeping does it, beside the promotion's own expiry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from goteo import automations
from goteo.launch import LaunchError, LaunchResult
from goteo.models import Campaign, CampaignStatus
from goteo.schedule import describe_start
from goteo.simulation import launch_refusal

log = logging.getLogger("goteo.scheduling")

MOMENT_FORMS = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M")


def parse_moment(text: str, tz: ZoneInfo) -> datetime:
    """A moment written "2026-12-15 09:00" or "15/12/2026 09:00", in the number's time zone.

    Raises ValueError with the Spanish explanation.
    """
    text = " ".join(text.split())
    for form in MOMENT_FORMS:
        try:
            return datetime.strptime(text, form).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"fecha y hora no válidas {text!r}: escríbalas como 15/12/2026 09:00 o 2026-12-15 09:00")


def start_text(campaign: Campaign, now: datetime) -> str:
    """ "empieza el martes 15 a las 09:00" (and "y termina ..." with an end)."""
    tz = campaign.sender.tz
    text = (
        f"empieza {describe_start(campaign.start_at, now, tz)}"
        if campaign.start_at
        else "sin fecha de comienzo"
    )
    if campaign.end_at is not None:
        text += f" y termina {describe_start(campaign.end_at, now, tz)}"
    return text


def campaign_schedule(campaign: Campaign, now: datetime, *, simulate: bool = False) -> LaunchResult | None:
    """Start the draft at its ``start_at``: now if that has come (the launch's result), else it
    waits "Programada" (None).

    The checks a launch makes that do not depend on the day (a number in test mode, the mode
    asked for) are made now, so a refusal is seen when scheduling and not on the day.
    """
    if campaign.start_at is None or campaign.start_at <= now:
        return automations.launch(campaign, now, simulate=simulate)
    if campaign.status != CampaignStatus.DRAFT:
        raise LaunchError(
            f"La campaña {campaign.pk} ya fue iniciada (estado: {campaign.get_status_display()})."
        )
    refusal = launch_refusal(campaign, simulate)
    if refusal:
        raise LaunchError(refusal)
    if campaign.end_at is not None and campaign.end_at <= campaign.start_at:
        raise LaunchError("El final de la campaña debe ser posterior a su comienzo.")
    moved = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
        status=CampaignStatus.SCHEDULED, simulation=simulate, pause_reason=""
    )
    if moved != 1:
        raise LaunchError(f"La campaña {campaign.pk} ya fue iniciada.")
    campaign.status, campaign.simulation, campaign.pause_reason = CampaignStatus.SCHEDULED, simulate, ""
    return None


def unschedule(campaign: Campaign) -> bool:
    """Back to draft, to be changed or started by hand; False if it had started meanwhile."""
    moved = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
        status=CampaignStatus.DRAFT
    )
    if moved:
        campaign.status = CampaignStatus.DRAFT
    return moved == 1


def launch_due(now: datetime, report: Callable[[str], None] = lambda line: None) -> int:
    """Launch the scheduled campaigns whose start has come; how many started.

    One that can no longer start (its promotion expired meanwhile, its number changed mode)
    goes back to draft with the reason, for a person to look at: nothing is sent in its name.
    """
    started = 0
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, start_at__lte=now).select_related(
        "promotion", "sender"
    )
    for campaign in due.order_by("start_at", "id"):
        try:
            result = automations.launch(campaign, now, simulate=campaign.simulation)
        except LaunchError as exc:
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
                status=CampaignStatus.DRAFT, pause_reason=f"No pudo empezar a su hora: {exc}"[:300]
            )
            log.warning("scheduled campaign %s could not start: %s", campaign.pk, exc)
            report(f"✖ {campaign.name}: no pudo empezar a su hora ({exc}); vuelve a borrador.")
            continue
        started += 1
        report(f"▶ {campaign.name}: empieza, programada; {result.pending} por enviar.")
    return started


def next_start() -> datetime | None:
    """When the next scheduled campaign starts (None: none is waiting)."""
    return (
        Campaign.objects.filter(status=CampaignStatus.SCHEDULED, start_at__isnull=False)
        .order_by("start_at")
        .values_list("start_at", flat=True)
        .first()
    )
