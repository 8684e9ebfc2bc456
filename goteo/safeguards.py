"""What the engine checks before each run: the legal profile, each number's risk, and
that no campaign sends in a mode it was not started in (goteo.simulation).

A campaign the legal profile no longer allows (the profile changed under it) pauses with
the rule it breaks; a number whose risk is bad is braked for the day, pausing its
campaigns, before WhatsApp blocks it (GOTEO_RISK_BRAKE=off keeps only the warning). A
person resumes after reading the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from goteo.compliance import active_profile
from goteo.conf import env_bool
from goteo.models import Campaign, CampaignStatus, Sender
from goteo.risk import BAD, brake_if_risky, senders_activity
from goteo.simulation import pause_mismatched


@dataclass
class Applied:
    """What the safeguards did: a note per campaign paused, a line per number braked."""

    notes: list[str] = field(default_factory=list)
    braked: list[str] = field(default_factory=list)


def apply_safeguards(now: datetime, campaign_ids: list[int] | None, report: Callable[[str], None]) -> Applied:
    """Pause unlawful campaigns and brake risky numbers; returns what it did."""
    applied = Applied()
    campaigns = Campaign.objects.filter(status=CampaignStatus.ACTIVE).select_related("sender")
    if campaign_ids is not None:
        campaigns = campaigns.filter(pk__in=campaign_ids)
    applied.notes += pause_mismatched(campaigns, report)  # test mode: a simulation never sends for real
    profile = active_profile()
    for campaign in campaigns:
        reason = campaign.pause_if_unlawful(profile)
        if reason:
            applied.notes.append(f"{campaign.name}: pausada. {reason}")
            report(f"⏸ {campaign.name}: pausada. {reason}")
    if not env_bool("GOTEO_RISK_BRAKE", True):  # the shop turned goteo's own brake off
        return applied
    with_work = campaigns.filter(status=CampaignStatus.ACTIVE, pending_count__gt=0)
    senders = list(Sender.objects.filter(campaigns__in=with_work, is_active=True).distinct())
    activities = senders_activity(senders, now)
    for sender in senders:
        was_braked = sender.is_braked(now)
        risk = brake_if_risky(sender, now, activities[sender.pk])
        if risk.level == BAD and not was_braked:
            reasons = "; ".join(risk.reasons)
            applied.braked.append(f"{sender.name}: riesgo alto ({reasons})")
            report(f"🛑 {sender.name}: riesgo alto de bloqueo ({reasons}); campañas en pausa.")
    return applied
