"""Segment rules: their shape, their check, and the query they make.

(Stub: the full module replaces this.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q


class RuleError(ValueError):
    """A rule goteo cannot read; the message names which rule and what is wrong, in Spanish."""


def validate_rules(rules: Any) -> list[dict[str, Any]]:
    """The rules in their canonical form, or RuleError."""
    if not isinstance(rules, list):
        raise RuleError("Las reglas deben ser una lista.")
    return rules


def rules_query(rules: list[dict[str, Any]], today: date) -> Q:
    """One Q over Contact that every rule must hold for (already validated rules)."""
    return Q()
