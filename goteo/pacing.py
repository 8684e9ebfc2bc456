"""How long the engine waits: the jittered pause between messages and the backoff after a
failure. Pure functions of their inputs."""

from __future__ import annotations

import random

JITTER = 0.3  # each pause is the delay times a random factor in [0.7, 1.3]
BASE_BACKOFF_SECONDS = 60


def jittered(delay_seconds: float, rng: random.Random) -> float:
    """The pause after a send: the campaign's delay with random jitter proportional to it."""
    if delay_seconds <= 0:
        return 0.0
    return delay_seconds * rng.uniform(1 - JITTER, 1 + JITTER)


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    """How long a message that was definitely not sent waits before its next attempt."""
    if retry_after is not None:
        return max(retry_after, 1.0)
    doublings: int = 2 ** max(
        attempts - 1, 0
    )  # typeshed types int ** int as Any (a negative power is a float)
    return BASE_BACKOFF_SECONDS * doublings
