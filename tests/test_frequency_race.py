"""The frequency cap under concurrency: two numbers claiming the same person at once.

Two campaigns on two numbers reach the same two people. Each claim is stopped inside its
transaction, after it moved its message to ``sending`` and before it commits, until the
other claim gets there too, so both decide at the same moment. On PostgreSQL they truly
overlap; the person lock must make the second claim pass over the first one's person.
On SQLite the claims take turns (one writer at a time), so only the correct run applies.
"""

import contextlib
import threading

import pytest
from django.db import connection, connections

from goteo.models import Campaign, Message, MessageStatus, Sender
from goteo.sending import Claim, Engine
from goteo.sending import sql as engine_module
from goteo.sending.claim import Claimer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def race(make_campaign, clock) -> list[tuple[str, int]]:
    """Claim once in each campaign at the same moment; (phone, claims) per person."""
    other = Sender.objects.create(name="otro", backend="memory", daily_cap=30)
    campaigns = [make_campaign(2), make_campaign(0, sender=other)]
    overlap = 1.0 if connection.vendor == "postgresql" else 0.2  # SQLite: the other waits its turn
    both_inside = threading.Barrier(2, timeout=overlap)
    original = Claimer.claim_message

    def claim_then_wait(claimer, *args):
        outcome = original(claimer, *args)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait()
        return outcome

    results: list[object] = []

    def claim(campaign):
        try:
            engine = Engine(clock)
            engine.claimer.claim_message = claim_then_wait.__get__(engine.claimer)  # type: ignore[method-assign]
            sender = Sender.objects.get(pk=campaign.sender_id)
            fresh = Campaign.objects.select_related("promotion", "sender").get(pk=campaign.pk)
            results.append(engine.claim(sender, [fresh], clock.now()))
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(c,)) for c in campaigns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not [r for r in results if isinstance(r, Exception)], results
    claimed = Message.objects.filter(status=MessageStatus.SENDING)
    assert claimed.count() == 2, "each number claims someone"
    per_phone: dict[str, int] = {}
    for phone in claimed.values_list("phone", flat=True):
        per_phone[phone] = per_phone.get(phone, 0) + 1
    return sorted(per_phone.items())


def test_two_numbers_never_reach_one_person_at_the_same_moment(make_campaign, clock):
    counts = race(make_campaign, clock)
    assert [n for _, n in counts] == [1, 1], counts


def test_it_catches_a_claim_that_does_not_lock_the_person(make_campaign, clock, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one claim at a time: there is no overlap to get wrong")
    # Takes no lock (and still uses up the lock's parameter), and reports every person locked.
    monkeypatch.setattr(engine_module, "PERSON_LOCK", "%s IS NOT NULL")
    counts = race(make_campaign, clock)
    assert [n for _, n in counts] == [2], counts


def test_a_claim_walks_past_the_people_held_and_holds_them_with_the_reason(make_campaign, clock):
    first = make_campaign(10)
    reached = list(first.messages.order_by("id")[:7])
    Message.objects.filter(pk__in=[m.pk for m in reached]).update(
        status=MessageStatus.SENT, sent_at=clock.now()
    )
    other = Sender.objects.create(name="otro", backend="memory", daily_cap=30)
    second = make_campaign(0, sender=other)
    engine = Engine(clock)
    campaigns = [Campaign.objects.select_related("promotion", "sender").get(pk=second.pk)]
    claim = engine.claim(other, campaigns, clock.now())
    assert isinstance(claim, Claim), claim
    eighth = first.messages.order_by("id")[7]
    assert claim.outgoing.to == eighth.phone  # the first person nobody reached this week
    if connection.vendor == "postgresql":  # it walked past them one by one: now they wait, with the reason
        held = second.messages.filter(phone__in=[m.phone for m in reached], next_attempt_at__isnull=False)
        assert held.count() == 7
        assert all("recibió otra promoción" in m.last_error for m in held)
