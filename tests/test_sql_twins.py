"""The sending's SQL statements and the model verbs they stand for do the same thing.

The hot path runs a few statements as SQL (goteo.sending.sql); the rest of goteo uses the
model verbs. Each pair is run on two identical campaigns and must leave them identical.
"""

from datetime import datetime

import pytest

from goteo.models import Campaign, CampaignStatus
from goteo.sending.dialect import dialect
from goteo.sending.sql import COMPLETE, SHIFT_IF_ACTIVE, SHIFT_SENT
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 2, 10, 0, tzinfo=BOGOTA)
COUNTERS = ("status", "finished_at", "pending_count", "sending_count", "sent_count")


def twins(make_campaign, **fields):
    """Two launched campaigns, then both given the same status and counters."""
    pair = [make_campaign(1), make_campaign(1)]
    Campaign.objects.filter(pk__in=[c.pk for c in pair]).update(**fields)
    return [Campaign.objects.get(pk=c.pk) for c in pair]


def state(campaign):
    return Campaign.objects.filter(pk=campaign.pk).values(*COUNTERS).get()


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "active", "pending_count": 0, "sending_count": 0},
        {"status": "active", "pending_count": 1, "sending_count": 0},
        {"status": "active", "pending_count": 0, "sending_count": 1},
        {"status": "paused", "pending_count": 0, "sending_count": 0},
    ],
)
def test_it_completes_a_campaign_as_the_model_does(make_campaign, fields):
    orm, sql = twins(make_campaign, **fields)
    orm.complete_if_done(NOW)
    done, active = CampaignStatus.COMPLETED.value, CampaignStatus.ACTIVE.value
    dialect().execute(COMPLETE, done, dialect().at(NOW), sql.pk, active)
    assert state(orm) == state(sql)


@pytest.mark.parametrize("status", ["active", "paused"])
def test_it_moves_a_claim_between_counters_as_the_model_does(make_campaign, status):
    orm, sql = twins(make_campaign, status=status, pending_count=3, sending_count=1, sent_count=2)
    if status == "active":  # the claim's shift only happens while the campaign is active
        Campaign.shift_count(orm.pk, "pending", "sending")
    dialect().execute(SHIFT_IF_ACTIVE, sql.pk, CampaignStatus.ACTIVE.value)
    assert state(orm) == state(sql)


def test_it_records_a_sent_message_in_the_counters_as_the_model_does(make_campaign):
    orm, sql = twins(make_campaign, pending_count=3, sending_count=1, sent_count=2)
    Campaign.shift_count(orm.pk, "sending", "sent")
    dialect().execute(SHIFT_SENT.format(campaign="%s"), sql.pk)
    assert state(orm) == state(sql)


def test_the_next_candidate_skips_a_message_past_its_deadline_as_the_orm_does(make_campaign):
    from datetime import timedelta

    from django.db.models import Q

    from goteo.models import Message
    from goteo.sending.sql import NEXT_PENDING

    campaign = make_campaign(4)
    first, second, third, fourth = campaign.messages.order_by("id")
    Message.objects.filter(pk=first.pk).update(deadline=NOW)  # its deadline is this moment: too late
    Message.objects.filter(pk=second.pk).update(deadline=NOW - timedelta(days=1))
    Message.objects.filter(pk=third.pk).update(deadline=NOW + timedelta(seconds=1))
    db = dialect()
    for after, expected in ((0, third.pk), (third.pk, fourth.pk)):
        at = db.at(NOW)
        row = db.fetch_one(NEXT_PENDING.format(cap=""), (campaign.pk, "pending", at, at, after))
        orm = (
            campaign.messages.filter(status="pending", id__gt=after)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=NOW))
            .filter(Q(deadline__isnull=True) | Q(deadline__gt=NOW))
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        assert row is not None and row[0] == orm == expected
