"""The funnel's delivered and read counters, moved by receipts exactly once per message.

Providers resend webhooks, deliver them out of order and several at once: a message counts
once as delivered (a "read" without a "delivered" counts both) and once as read, and a late
failure never takes a delivery back.
"""

from __future__ import annotations

import contextlib
import random
import threading

import pytest
from django.db import connection, connections

from goteo import receipts
from goteo.models import Campaign, Message, MessageStatus
from goteo.models.messages import MessageQuerySet
from goteo.receipts import handle_events
from goteo.webhooks.events import DELIVERED, FAILED, READ, Receipt
from tests.conftest import at

NOW = at(2026, 1, 2, 12)


def sent_campaign(make_campaign, clock, n: int = 3, **fields) -> Campaign:
    campaign = make_campaign(n, **fields)
    Message.move(campaign.messages.all(), MessageStatus.SENT, clock.now(), sent_at=clock.now())
    return campaign


def receipt(message: Message, status: str, minute: int = 0, **fields) -> Receipt:
    return Receipt(status=status, message_uuid=str(message.uuid), at=at(2026, 1, 2, 11, minute), **fields)


def apply(*events: Receipt) -> None:
    handle_events(list(events), "cloud", NOW)


def funnel(campaign: Campaign) -> tuple[int, int]:
    campaign.refresh_from_db()
    return campaign.delivered_count, campaign.read_count


@pytest.mark.django_db
def test_it_counts_a_delivery_and_a_reading_once_however_often_they_arrive(make_campaign, clock):
    campaign = sent_campaign(make_campaign, clock)
    first, second, _third = campaign.messages.order_by("id")

    apply(receipt(first, DELIVERED, 1), receipt(first, DELIVERED, 1), receipt(second, DELIVERED, 2))
    assert funnel(campaign) == (2, 0)

    apply(receipt(first, READ, 5), receipt(first, READ, 6), receipt(first, DELIVERED, 7))
    assert funnel(campaign) == (2, 1)


@pytest.mark.django_db
def test_a_reading_that_comes_first_counts_both_and_keeps_the_earliest_times(make_campaign, clock):
    campaign = sent_campaign(make_campaign, clock)
    message = campaign.messages.order_by("id").first()

    apply(receipt(message, READ, 9))
    assert funnel(campaign) == (1, 1)

    apply(receipt(message, DELIVERED, 3))  # late, with the earlier time it really happened at
    message.refresh_from_db()
    assert funnel(campaign) == (1, 1)
    assert message.delivered_at == at(2026, 1, 2, 11, 3)
    assert message.read_at == at(2026, 1, 2, 11, 9)
    assert message.delivery_status == READ


@pytest.mark.django_db
def test_a_failure_after_the_delivery_takes_nothing_back(make_campaign, clock):
    campaign = sent_campaign(make_campaign, clock)
    message = campaign.messages.order_by("id").first()

    apply(receipt(message, DELIVERED, 1), receipt(message, FAILED, 2, error_code="131026"))

    message.refresh_from_db()
    assert funnel(campaign) == (1, 0)
    assert message.delivery_status == DELIVERED


@pytest.mark.django_db
def test_a_failed_message_is_not_counted(make_campaign, clock):
    campaign = sent_campaign(make_campaign, clock)
    message = campaign.messages.order_by("id").first()

    apply(receipt(message, FAILED, 2, error_code="131026"))

    assert funnel(campaign) == (0, 0)


@pytest.mark.django_db
def test_each_campaign_counts_its_own_messages(make_campaign, clock):
    one, other = sent_campaign(make_campaign, clock, 2), sent_campaign(make_campaign, clock, 2)
    theirs = list(other.messages.all())  # the second campaign's audience is everyone so far

    apply(*(receipt(m, READ) for m in theirs), receipt(one.messages.first(), DELIVERED))

    assert funnel(one) == (1, 0)
    assert funnel(other) == (len(theirs), len(theirs)) == (4, 4)


@pytest.mark.django_db
def test_a_simulation_reached_nobody_and_counts_nothing(make_campaign, clock):
    campaign = make_campaign(2)
    Campaign.objects.filter(pk=campaign.pk).update(simulation=True)
    Message.move(campaign.messages.all(), MessageStatus.SIMULATED, clock.now())

    apply(*(receipt(m, READ) for m in campaign.messages.all()))

    assert funnel(campaign) == (0, 0)


# --- at the same time --------------------------------------------------------------------------
# Messages 0-2 are delivered and read, 3-4 only delivered, 5 only read (its "delivered" lost).
PLAN = {
    0: (DELIVERED, READ),
    1: (DELIVERED, READ),
    2: (READ, DELIVERED),
    3: (DELIVERED,),
    4: (DELIVERED,),
    5: (READ,),
}
THREADS = 4


def race(campaign: Campaign, monkeypatch) -> None:
    """Every thread applies every receipt, each in its own order, meeting the others inside the
    first receipt's transaction so they overlap there if nothing keeps them apart."""
    messages = list(campaign.messages.order_by("id"))
    events = [
        receipt(messages[i], status, minute)
        for i, steps in PLAN.items()
        for minute, status in enumerate(steps)
    ]
    together = threading.Barrier(THREADS, timeout=0.5)
    original = receipts.advance_delivery

    def meet_then_advance(*args):
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()
        return original(*args)

    monkeypatch.setattr(receipts, "advance_delivery", meet_then_advance)
    failures: list[Exception] = []

    def work(seed: int) -> None:
        try:
            mine = events * 2  # every webhook twice
            random.Random(seed).shuffle(mine)
            for event in mine:
                apply(event)
        except Exception as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures


@pytest.mark.django_db(transaction=True)
def test_receipts_at_the_same_time_count_each_message_once(make_campaign, clock, monkeypatch):
    campaign = sent_campaign(make_campaign, clock, len(PLAN))

    race(campaign, monkeypatch)

    assert funnel(campaign) == (6, 4)
    assert campaign.messages.filter(delivered_at__isnull=False).count() == 6
    assert campaign.messages.filter(read_at__isnull=False).count() == 4


@pytest.mark.django_db(transaction=True)
def test_it_catches_receipts_that_do_not_lock_the_message(make_campaign, clock, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one receipt at a time: there is no overlap to get wrong")
    monkeypatch.setattr(MessageQuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    campaign = sent_campaign(make_campaign, clock, len(PLAN))

    race(campaign, monkeypatch)

    assert funnel(campaign)[0] > 6, "without the lock the test must see receipts counted twice"
