"""Fixtures of the race and chaos tests: campaigns that may send at any hour of any day."""

import pytest


@pytest.fixture(autouse=True)
def _any_hour(no_legal_hours):
    """Races and kills run whenever CI runs (and in workers), so every chaos test has no legal hours."""
