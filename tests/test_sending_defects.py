"""The sending's defects found in review, each pinned: a late result that records nothing
says so, a retried failure counts once, a transport's bug leaves nothing ``sending``, and
sending refuses to run inside a transaction."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from goteo.models import Campaign, Message, MessageEvent, MessageStatus, Sender
from goteo.sending import Engine, RunSummary, Step
from goteo.sending.record import record_late
from goteo.sending.run import InsideTransaction
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport

pytestmark = pytest.mark.django_db(transaction=True)


def claimed(make_campaign, clock, engine, contacts=1, **fields):
    campaign = make_campaign(contacts, **fields)
    fresh = Campaign.objects.select_related("promotion", "sender").get(pk=campaign.pk)
    claim = engine.claim(Sender.objects.get(pk=campaign.sender_id), [fresh], clock.now())
    assert not isinstance(claim, type(None)) and hasattr(claim, "message_id"), claim
    return campaign, claim


def test_it_logs_a_late_result_as_recorded_only_when_it_recorded_it(make_campaign, clock, caplog):
    engine = Engine(clock)
    _campaign, claim = claimed(make_campaign, clock, engine)
    Message.objects.filter(pk=claim.message_id).update(status=MessageStatus.FAILED)  # a person decided
    with caplog.at_level(logging.INFO, logger="goteo"):
        assert record_late(claim, "wamid.1", clock.now()) is False
    assert not [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert any("nothing recorded" in r.getMessage() for r in caplog.records)
    assert Message.objects.get(pk=claim.message_id).status == MessageStatus.FAILED


def test_it_logs_a_late_result_that_it_recorded_as_critical(make_campaign, clock, caplog):
    engine = Engine(clock)
    _campaign, claim = claimed(make_campaign, clock, engine)
    Message.objects.filter(pk=claim.message_id).update(status=MessageStatus.UNKNOWN)  # the sweep's
    with caplog.at_level(logging.INFO, logger="goteo"):
        assert record_late(claim, "wamid.1", clock.now()) is True
    (critical,) = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert critical.getMessage().endswith("recorded as sent")


@pytest.mark.parametrize(
    ("error", "counted"),
    [
        (SendError(SendError.UNKNOWN, "sin respuesta"), "unknown"),
        (SendError(SendError.PERMANENT, "no existe"), "failed"),
        (SendError(SendError.RETRY, "429", retry_after=60), "retried"),
    ],
    ids=["unknown", "permanent", "retry"],
)
def test_it_counts_a_retried_failure_once(make_campaign, clock, error, counted):
    engine = Engine(clock)
    _campaign, claim = claimed(make_campaign, clock, engine)
    summary = RunSummary()
    engine.record_failure(claim, error, summary)
    engine.record_failure(claim, error, summary)  # the worker's retry after the commit's answer was lost
    assert getattr(summary, counted) == 1
    assert MessageEvent.objects.filter(message_id=claim.message_id).count() == 2  # the claim and one outcome


def test_it_brakes_a_number_once_when_a_brake_is_recorded_twice(make_campaign, clock):
    engine = Engine(clock)
    campaign, claim = claimed(make_campaign, clock, engine)
    brake = SendError(SendError.BRAKE, "demasiados envíos")
    summary = RunSummary()
    first = engine.record_failure(claim, brake, summary)
    second = engine.record_failure(claim, brake, summary)
    assert first is not None and second is not None and second.step is Step.STOP  # the lane still stops
    assert len(Sender.objects.get(pk=campaign.sender_id).brake_log) == 1
    assert len(summary.braked) == 1


def test_it_marks_a_message_unknown_at_once_when_the_transport_raises_something_else(
    make_campaign, clock, caplog
):
    campaign = make_campaign(2, delay_seconds=0)

    def bug(message):
        raise KeyError("a transport's bug")

    MemoryTransport.script = bug
    with caplog.at_level(logging.ERROR, logger="goteo"):
        summary = Engine(clock, max_wait=0).run([campaign.pk])  # the run goes on
    statuses = sorted(Message.objects.values_list("status", flat=True))
    assert statuses == [MessageStatus.UNKNOWN, MessageStatus.UNKNOWN]
    assert summary.unknown == 2
    assert "a transport's bug" in Message.objects.first().last_error
    errors = [r for r in caplog.records if r.exc_info and "unexpected error" in r.getMessage()]
    assert len(errors) == 2


def test_it_refuses_to_run_inside_a_transaction(make_campaign, clock):
    campaign = make_campaign(1)
    with pytest.raises(InsideTransaction), transaction.atomic():
        Engine(clock).run([campaign.pk])
    assert Message.objects.get().status == MessageStatus.PENDING


def test_it_refuses_a_step_inside_a_transaction(make_campaign, clock):
    campaign = make_campaign(1)
    with pytest.raises(InsideTransaction), transaction.atomic():
        Engine(clock).step(campaign.sender, MemoryTransport(), None, RunSummary())
    assert Message.objects.get().status == MessageStatus.PENDING
