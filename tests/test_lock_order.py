"""A claim and a failed send's record for the same number, at the same moment, on PostgreSQL.

The record of a failed send gives back the day's slots and moves the campaign's counters;
a claim takes the slots and then moves the same counters. If the two took those rows in
opposite orders, each could hold what the other waits for, and PostgreSQL would abort one
of them as a deadlock. Here the record stops right after it moved the campaign's counters,
the claim starts meanwhile, and both must end well. SQLite runs one writer at a time, so
only PostgreSQL can get this wrong.
"""

import threading
import time

import pytest
from django.db import connection, connections

from goteo.models import Campaign, DailyCounter, Message, MessageStatus, Sender
from goteo.sending import Claim, Engine, RunSummary, record
from goteo.transports import SendError

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HOLD_SECONDS = 0.5  # how long the record keeps its rows once it moved the campaign's counters


def record_while_claiming(make_campaign, clock, monkeypatch) -> list[BaseException]:
    """Record a failed send for one message while claiming the next; the errors raised."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no overlap to get wrong")
    campaign = make_campaign(3, delay_seconds=0)
    sender = Sender.objects.get(pk=campaign.sender_id)
    fresh = Campaign.objects.select_related("promotion", "sender")
    first = Engine(clock).claim(sender, [fresh.get(pk=campaign.pk)], clock.now())
    assert isinstance(first, Claim)
    record_holds = threading.Event()
    shift_count = Campaign.shift_count

    def shift_then_hold(*args, **kwargs):
        shift_count(*args, **kwargs)
        if threading.current_thread().name == "record":
            record_holds.set()
            time.sleep(HOLD_SECONDS)  # the claim runs into the rows this transaction holds

    monkeypatch.setattr(Campaign, "shift_count", staticmethod(shift_then_hold))
    errors: list[BaseException] = []

    def record() -> None:
        error = SendError(SendError.RETRY, "el proveedor pidió esperar", retry_after=60)
        Engine(clock).record_failure(first, error, RunSummary())

    def claim() -> None:
        record_holds.wait(5)
        Engine(clock).claim(Sender.objects.get(pk=sender.pk), [fresh.get(pk=campaign.pk)], clock.now())

    def run(work) -> None:
        try:
            work()
        except BaseException as exc:  # reported by the caller's assertion
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(w,), name=w.__name__) for w in (record, claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return errors


def test_a_claim_and_a_failed_sends_record_never_deadlock(make_campaign, clock, monkeypatch):
    errors = record_while_claiming(make_campaign, clock, monkeypatch)
    assert errors == []
    statuses = sorted(Message.objects.values_list("status", flat=True))
    assert statuses == [MessageStatus.PENDING, MessageStatus.PENDING, MessageStatus.SENDING]
    campaign = Campaign.objects.get()
    day = campaign.sender.local_day(clock.now())
    # The failed send gave its slots back and the new claim took one: one each.
    assert DailyCounter.used_on(campaign.counter_scope, day) == 1
    assert DailyCounter.used_on(campaign.sender.counter_scope, day) == 1


def test_it_catches_a_record_that_moves_the_counters_before_giving_back_the_slots(
    make_campaign, clock, monkeypatch
):
    finish = record.finish

    def counters_first(claim, to_status, now, actor, detail="", *, release=False, **fields):
        done = finish(claim, to_status, now, actor, detail, **fields)
        if done and release:
            record.release_slots(claim)
        return done

    monkeypatch.setattr(record, "finish", counters_first)
    errors = record_while_claiming(make_campaign, clock, monkeypatch)
    assert any("deadlock" in str(e) for e in errors), errors
