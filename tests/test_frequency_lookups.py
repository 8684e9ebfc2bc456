"""The frequency cap's lookups: same answers through every path, whatever the sizes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from goteo.frequency import Reached, has_free_pending, held_messages, recent_promotions, recently_reached
from goteo.models import Campaign, Message
from goteo.sending import Engine
from goteo.status import campaign_summary
from tests.test_frequency_cap import at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def half_reached(make_campaign, clock):
    """Four people received campaign A on Friday 2; campaign B has them and two new ones."""
    make_campaign(4)
    clock.set(at(2))
    Engine(clock, max_wait=3600).run()
    return make_campaign(2)


@pytest.mark.parametrize("chunk", [2000, 1])
def test_it_finds_the_held_people_whether_listed_or_chunked(half_reached, monkeypatch, chunk):
    monkeypatch.setattr("goteo.frequency.LOOKUP_CHUNK", chunk)  # 1: one person per query
    held = held_messages(half_reached, at(5))
    assert len(held) == 4 and set(held.values()) == {at(9, 0)}
    assert has_free_pending(half_reached, at(5), 7)
    half_reached.messages.exclude(pk__in=held).update(status="skipped")
    half_reached.recount()
    assert not has_free_pending(half_reached, at(5), 7)


def test_the_summary_asks_for_the_held_people_once(half_reached):
    with CaptureQueriesContext(connection) as queries:
        summary = campaign_summary(half_reached, at(5))
    assert (summary["frequency_held"], summary["frequency_held_until"]) == (4, at(9, 0))
    lookups = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
    assert len(lookups) == 1


def reached_through_the_orm(campaign, now, days=7):
    phones, contacts = {}, {}
    for part in recent_promotions(campaign, now, days):
        for phone, contact_id, sent_at, claimed_at in part.values_list(
            "phone", "contact_id", "sent_at", "claimed_at"
        ):
            at = sent_at or claimed_at
            if phone:
                phones[phone] = max(at, phones.get(phone, at))
            if contact_id:
                contacts[contact_id] = max(at, contacts.get(contact_id, at))
    return Reached(phones, contacts)


def test_the_claims_sql_finds_whom_the_querysets_find(half_reached, make_campaign, clock):
    other = make_campaign(3)
    in_doubt = other.messages.order_by("-id")[:2]  # two of its three new people
    Message.objects.filter(pk__in=[m.pk for m in in_doubt]).update(status="unknown", claimed_at=at(6))
    gone = make_campaign(2)  # finished before the period: its late send does not count
    gone.messages.update(status="sent", sent_at=at(6))
    Campaign.objects.filter(pk=gone.pk).update(status="completed", finished_at=at(1))
    draft = Campaign(sender=half_reached.sender)  # a form's preview, not saved yet
    for campaign in (half_reached, other, gone, draft):
        for now in (at(5), at(8), at(9), at(14)):
            reached = recently_reached(campaign, now, 7)
            assert reached == reached_through_the_orm(campaign, now)
    assert len(recently_reached(half_reached, at(8), 7).phones) == 6  # four sent, two in doubt
