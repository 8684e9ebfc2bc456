"""The lifecycle's table of transitions and the one function that makes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from goteo.models import (
    Actor,
    CampaignStatus,
    Contact,
    IllegalTransition,
    Message,
    MessageEvent,
)
from goteo.models import messages as message_module
from goteo.models.lifecycle import LAUNCH_STATES, TRANSITIONS, check, is_legal, moves_of

P, SENDING, SENT = "pending", "sending", "sent"
FAILED, SKIPPED, UNKNOWN, SIMULATED = "failed", "skipped", "unknown", "simulated"


def test_it_allows_the_worker_exactly_the_engine_transitions():
    # The engine's statements: the claim; record_sent; record_failure (sent when a receipt
    # came meanwhile, failed, skipped for an opt-out, pending for a retry or a stopped
    # number, unknown); record_late; and the simulation's record and late record.
    assert moves_of(Actor.WORKER) == {
        (P, SENDING),
        (SENDING, SENT),
        (SENDING, FAILED),
        (SENDING, SKIPPED),
        (SENDING, P),
        (SENDING, UNKNOWN),
        (SENDING, SIMULATED),
        (UNKNOWN, SENT),
        (UNKNOWN, SIMULATED),
    }
    assert {actors for (_from, to), actors in TRANSITIONS.items() if to == SENDING} == {
        frozenset({Actor.WORKER})
    }
    # The sweep and the expiry.
    assert moves_of(Actor.HOUSEKEEPING) == {(SENDING, UNKNOWN), (SENDING, SIMULATED), (P, SKIPPED)}


def test_it_lets_a_failed_receipt_send_again_only_what_may_not_have_arrived():
    assert moves_of(Actor.RECEIPT) == {
        (SENT, P),
        (UNKNOWN, P),
        (UNKNOWN, SENT),
        (UNKNOWN, FAILED),
        (UNKNOWN, SKIPPED),
    }


def test_it_never_moves_unknown_to_pending_by_itself():
    # A message that may have gone out is sent again only by a person or a provider's refusal.
    assert TRANSITIONS[(UNKNOWN, P)] == {Actor.OWNER, Actor.RECEIPT}
    assert not is_legal(UNKNOWN, P, Actor.WORKER)
    assert not is_legal(UNKNOWN, P, Actor.HOUSEKEEPING)


def test_it_checks_a_move_with_a_lookup():
    check(P, SENDING, Actor.WORKER)
    with pytest.raises(IllegalTransition):
        check(P, SENDING, Actor.OWNER)
    with pytest.raises(IllegalTransition):
        check(SENT, FAILED, Actor.RECEIPT)
    assert is_legal(SENT, P, Actor.RECEIPT)
    assert not is_legal(SENT, P, Actor.OWNER)


def test_it_launches_messages_only_in_the_launch_states(make_campaign):
    Contact.objects.create(full_name="Sin Permiso", phone="+573009999999", consent=False)
    campaign = make_campaign(3)
    statuses = set(campaign.messages.values_list("status", flat=True))
    assert statuses == {P, SKIPPED}
    assert statuses <= LAUNCH_STATES


def test_it_raises_on_an_illegal_transition_and_changes_nothing(make_campaign, clock):
    campaign = make_campaign(3)
    first = campaign.messages.order_by("id").first()
    assert first is not None
    Message.move(Message.objects.filter(pk=first.pk), FAILED, clock.now())
    before = (campaign.recount(), list(campaign.messages.values_list("id", "status")))
    # The owner may not mark pending messages sent, nor the worker requeue a failed one:
    # the first illegal group stops the whole move.
    with pytest.raises(IllegalTransition):
        campaign.messages.all().transition(SENT, actor=Actor.OWNER, by="ana", now=clock.now())
    with pytest.raises(IllegalTransition):
        campaign.messages.all().transition(P, actor=Actor.WORKER, by="w", now=clock.now())
    campaign.refresh_from_db()
    assert (campaign.counts(), list(campaign.messages.values_list("id", "status"))) == before
    assert not MessageEvent.objects.exists()


def test_it_writes_one_event_per_row_moved_and_keeps_the_counters(make_campaign, clock, monkeypatch):
    monkeypatch.setattr(message_module, "CHUNK", 2)  # several statements per group
    first, second = make_campaign(3), make_campaign(4)  # the second reaches all 7 people
    moved = Message.objects.filter(campaign__in=[first, second]).transition(
        SKIPPED, actor=Actor.OWNER, by="ana", now=clock.now(), detail="porque sí", skip_reason="operator"
    )
    assert moved == 10
    events = MessageEvent.objects.values_list("from_status", "to_status", "actor", "detail")
    assert list(events) == [(P, SKIPPED, "ana", "porque sí")] * 10
    assert sorted(MessageEvent.objects.values_list("message_id", flat=True)) == sorted(
        Message.objects.values_list("id", flat=True)
    )
    for campaign in (first, second):
        campaign.refresh_from_db()
        assert campaign.counts() == campaign.recount()
        assert campaign.skipped_count == campaign.total_count
    again = Message.objects.all().transition(SKIPPED, actor=Actor.OWNER, by="ana", now=clock.now())
    assert again == 0
    assert MessageEvent.objects.count() == 10


def test_it_moves_only_rows_that_meet_the_extra_condition(make_campaign, clock):
    campaign = make_campaign(2)
    message = campaign.messages.order_by("id").first()
    assert message is not None
    Message.move(Message.objects.filter(pk=message.pk), SENDING, clock.now(), claim_token=None)
    other = Message.objects.filter(pk=message.pk, claim_token="3f0c1e9e-0000-4000-8000-000000000000")
    assert other.transition(SENT, actor=Actor.WORKER, by="w", now=clock.now()) == 0
    message.refresh_from_db()
    assert message.status == SENDING
    mine = Message.objects.filter(pk=message.pk, claim_token=None)
    assert mine.transition(SENT, actor=Actor.WORKER, by="w", now=clock.now(), sent_at=clock.now()) == 1
    message.refresh_from_db()
    assert (message.status, message.sent_at) == (SENT, clock.now())


def test_it_runs_on_moved_after_the_rows_and_before_the_counters(make_campaign, clock):
    campaign = make_campaign(2)
    seen: list[tuple[int, int, int]] = []

    def on_moved(n: int) -> None:
        campaign.refresh_from_db()
        unknown_rows = campaign.messages.filter(status=UNKNOWN).count()
        seen.append((n, unknown_rows, campaign.unknown_count))

    Message.move(campaign.messages.all(), SENDING, clock.now())
    moved = campaign.messages.all().transition(
        UNKNOWN, actor=Actor.HOUSEKEEPING, by="barrido", now=clock.now(), on_moved=on_moved
    )
    assert moved == 2
    assert seen == [(2, 2, 0)]
    campaign.refresh_from_db()
    assert campaign.unknown_count == 2


def test_it_reopens_a_completed_campaign_a_message_goes_back_to(make_campaign, clock):
    campaign = make_campaign(1)
    Message.move(campaign.messages.all(), FAILED, clock.now())
    assert campaign.complete_if_done(clock.now())
    assert campaign.requeue_failed(clock.now(), by="ana") == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.finished_at, campaign.pending_count) == (CampaignStatus.ACTIVE, None, 1)
    assert MessageEvent.objects.get().actor == "ana"


def test_it_records_skips_with_who_skipped(make_campaign, clock):
    campaign = make_campaign(2)
    contact = campaign.messages.order_by("id").first().contact
    assert contact.opt_out("panel:ana", clock.now()) == 1
    assert campaign.cancel(clock.now(), by="ana") == 1
    events = MessageEvent.objects.order_by("id").values_list("to_status", "actor", "detail")
    assert list(events) == [(SKIPPED, "panel:ana", "se dio de baja"), (SKIPPED, "ana", "campaña cancelada")]


# Where a message's status may be written other than through ``transition``: the models'
# own primitives, and the sending's hot-path SQL (the claim and a sent message's record, rows
# of the table pinned by the tests above and by test_sql_twins).
ALLOWED = {"goteo/models/messages.py", "goteo/models/campaigns.py", "goteo/sending/sql.py"}
WRITES = re.compile(r"Message\.move\(|shift_count\(|\.update\(\s*status=MessageStatus")


def test_it_changes_statuses_only_through_transition():
    root = Path(__file__).resolve().parent.parent
    found = []
    for path in sorted((root / "goteo").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in ALLOWED or "/migrations/" in name:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
