"""Deliberately broken pieces of the sending protocol, for the negative controls.

Each race and chaos test also runs against one of these and must catch it; otherwise the
test could not tell a correct engine from a broken one. They are applied to the engine
class of a worker process started with GOTEO_BROKEN=<name>, and never outside tests.

  naive_claim       read the next pending message, then mark it sending unconditionally
  count_then_claim  check the sender's cap by counting today's claims, then claim
  at_least_once     treat ambiguous outcomes and stale ``sending`` rows as "try again"
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F

from goteo.models import Campaign, DailyCounter, Message, MessageStatus
from goteo.models.messages import MessageQuerySet
from goteo.sending import Engine, Step, Wait
from goteo.sending.claim import Claimer, build_claim
from goteo.transports import SendError

JITTER = 0.003  # the gap between reading and writing that a real process may have
COUNT_JITTER = 0.2  # wider, so the claims near the cap reliably overlap


def naive_claim(self, sender, campaigns, now, day):
    """No compare-and-set: two workers that read the same row both send it."""
    for campaign in campaigns:
        candidate = (
            Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        if candidate is None:
            continue
        time.sleep(random.uniform(0, JITTER))
        token = uuid.uuid4()
        Message.objects.filter(pk=candidate).update(
            status=MessageStatus.SENDING,
            claim_token=token,
            claimed_by=self.worker_name,
            claimed_at=now,
            quota_day=day,
            attempts=F("attempts") + 1,
        )
        Campaign.shift_count(campaign.pk, MessageStatus.PENDING, MessageStatus.SENDING)
        return build_claim(candidate, token, campaign, sender, day)
    return Wait(None, Step.NOTHING)


def count_then_claim(self, sender, campaigns, now, day):
    """The cap checked by counting: two workers below the cap both go ahead."""
    claimed_today = (
        Message.objects.filter(campaign__sender=sender, quota_day=day)
        .exclude(status=MessageStatus.PENDING)
        .count()
    )
    if claimed_today >= sender.cap_on(day):
        return Wait(None, Step.SENDER_CAP)
    time.sleep(random.uniform(0, COUNT_JITTER))
    for campaign in campaigns:
        candidates = list(
            Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING)
            .order_by("id")
            .values_list("id", flat=True)[:20]
        )
        random.shuffle(candidates)  # the claim itself is sound: only the cap check is not
        for candidate in candidates:
            token = uuid.uuid4()
            claimed = Message.objects.filter(pk=candidate, status=MessageStatus.PENDING).update(
                status=MessageStatus.SENDING,
                claim_token=token,
                claimed_by=self.worker_name,
                claimed_at=now,
                quota_day=day,
                attempts=F("attempts") + 1,
            )
            if claimed == 1:
                Campaign.shift_count(campaign.pk, MessageStatus.PENDING, MessageStatus.SENDING)
                # Recorded after the fact, so the status pages see the day as full.
                DailyCounter.reserve(sender.counter_scope, day, 10**9)
                return build_claim(candidate, token, campaign, sender, day)
    return Wait(None, Step.NOTHING)


def at_least_once_sweep(self, now, actor=""):
    """Messages left sending go back to pending: a dead worker's message is sent again."""
    lease = getattr(settings, "GOTEO_SENDING_LEASE_SECONDS", 600)
    stale = Message.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - timedelta(seconds=lease)
    )
    return Message.move(stale, MessageStatus.PENDING, now, claim_token=None)


def at_least_once_failure(self, claim, error, summary):
    """An outcome that may have gone out is retried as if it certainly had not."""
    if error.kind == SendError.UNKNOWN:
        error = SendError(SendError.RETRY, error.reason, retry_after=1)
    return ORIGINAL_RECORD_FAILURE(self, claim, error, summary)


ORIGINAL_RECORD_FAILURE = Engine.record_failure
VARIANTS = {
    "naive_claim": {(Claimer, "claim_in_transaction"): naive_claim},
    "count_then_claim": {(Claimer, "claim_in_transaction"): count_then_claim},
    "at_least_once": {
        (MessageQuerySet, "sweep_stale"): at_least_once_sweep,
        (Engine, "record_failure"): at_least_once_failure,
    },
}


def apply(name: str) -> None:
    """Replace the named pieces of the sending in this process."""
    for (owner, attribute), function in VARIANTS[name].items():
        setattr(owner, attribute, function)
