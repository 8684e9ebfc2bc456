"""Automations: standing campaigns that enroll, run after run, whoever their trigger names today.

(Interface stub: the full module replaces this.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from goteo.launch import LaunchResult
from goteo.models import Campaign, Contact
from goteo.triggers import Due


def start_automation(campaign: Campaign, now: datetime, *, simulate: bool = False) -> LaunchResult:
    """Check it as a launch would, make it active, and enroll whoever is due today.

    Raises goteo.launch.LaunchError with the reason in Spanish when it cannot start.
    """
    raise NotImplementedError


def enroll(campaign: Campaign, now: datetime) -> LaunchResult:
    """One run of one active automation: a message for each person newly due (once per
    occurrence), a skipped row with the reason for each who may not receive it."""
    raise NotImplementedError


def due_today(campaign: Campaign, now: datetime) -> list[tuple[Contact, Due]]:
    """Who a run at ``now`` would enroll (the dry run): not yet enrolled for their occurrence."""
    raise NotImplementedError


def run_automations(now: datetime, report: Callable[[str], None] | None = None) -> int:
    """Enroll in every active automation and skip what missed its grace period; how many enrolled."""
    raise NotImplementedError
