"""The frequency cap: one promotion per person in 7 days, whatever the campaign or number."""

from datetime import date, datetime, timedelta

import pytest

from goteo.frequency import eligible_from, held_by_day, period_start, wait_reason
from goteo.launch import campaign_launch
from goteo.models import Message, MessageStatus, Sender
from goteo.sending import Engine
from goteo.status import campaign_forecast, campaign_summary, next_recipients, next_send_at
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db(transaction=True)


def at(d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(2026, 1, d, hh, mm, tzinfo=BOGOTA)


def run(clock, when=None):
    if when is not None:
        clock.set(when)
    return Engine(clock, max_wait=3600).run()


def sent_to():
    return [m.to for m in MemoryTransport.outbox]


@pytest.fixture
def first_sent(make_campaign, clock):
    """Campaign A reaches 10 people on Friday 2 January."""
    campaign = make_campaign(10)
    run(clock, at(2))
    assert len(sent_to()) == 10
    return campaign


def test_it_counts_calendar_days_in_the_senders_time_zone():
    received = at(2, 23, 30)
    assert eligible_from(received, BOGOTA, 7) == at(9, 0)
    assert period_start(at(8, 23, 59), BOGOTA, 7) == at(2, 0)  # day 7 still counts the 2nd
    assert period_start(at(9, 0), BOGOTA, 7) == at(3, 0)  # day 8 does not
    assert wait_reason(received, at(9, 0), BOGOTA) == "recibió otra promoción el 02/01; espera hasta el 09/01"


def test_it_holds_people_on_day_seven_and_sends_on_day_eight(first_sent, make_campaign, clock):
    second = make_campaign(0)  # the same ten people
    assert second.pending_count == 10
    summary = run(clock, at(8, 18))  # Thursday 8: day 7
    assert summary.sent == 0 and len(sent_to()) == 10
    waiting = second.messages.all()
    assert {m.status for m in waiting} == {MessageStatus.PENDING}
    assert {m.next_attempt_at for m in waiting} == {at(9, 0)}
    assert {m.last_error for m in waiting} == {"recibió otra promoción el 02/01; espera hasta el 09/01"}
    summary = run(clock, at(9, 9))  # Friday 9: day 8
    assert summary.sent == 10
    assert sorted(sent_to()[10:]) == sorted(sent_to()[:10])
    second.refresh_from_db()
    assert second.status == "completed"
    assert set(second.messages.values_list("last_error", flat=True)) == {""}


def test_it_sends_the_others_and_holds_only_those_reached(first_sent, make_campaign, clock):
    second = make_campaign(5)  # the ten of campaign A plus five new people
    run(clock, at(2, 11))
    new = set(second.messages.filter(status="sent").values_list("phone", flat=True))
    assert len(new) == 5 and not new & set(first_sent.messages.values_list("phone", flat=True))
    second.refresh_from_db()
    assert (second.sent_count, second.pending_count) == (5, 10)
    summary = campaign_summary(second, clock.now())
    assert summary["frequency_held"] == 10
    assert summary["frequency_held_until"] == at(9, 0)


def test_it_counts_unknown_and_in_flight_messages_as_received(make_campaign, clock):
    first = make_campaign(2)
    unknown, sending = first.messages.order_by("id")
    Message.move(
        Message.objects.filter(pk=unknown.pk), MessageStatus.UNKNOWN, clock.now(), claimed_at=at(2, 9)
    )
    Message.move(
        Message.objects.filter(pk=sending.pk), MessageStatus.SENDING, clock.now(), claimed_at=at(2, 9)
    )
    second = make_campaign(0)
    run(clock, at(5))
    assert sent_to() == []
    assert second.messages.filter(next_attempt_at=at(9, 0)).count() == 2


def test_it_does_not_count_a_failed_promotion(make_campaign, clock):
    make_campaign(3)

    def not_on_whatsapp(message):
        raise SendError(SendError.PERMANENT, "el número no tiene WhatsApp", code="exists:false")

    MemoryTransport.script = not_on_whatsapp
    run(clock, at(2))
    MemoryTransport.script = None
    make_campaign(0)
    run(clock, at(2, 11))
    assert len(sent_to()) == 3


def test_it_applies_across_numbers(make_campaign, clock):
    make_campaign(4)
    run(clock, at(2))
    other = Sender.objects.create(name="otro", backend="memory", daily_cap=30)
    second = make_campaign(0, sender=other)
    run(clock, at(5))
    assert len(sent_to()) == 4
    assert second.messages.filter(status="pending", next_attempt_at=at(9, 0)).count() == 4


def test_it_can_be_turned_off_or_shortened(make_campaign, clock, monkeypatch):
    make_campaign(3)
    run(clock, at(2))
    monkeypatch.setenv("GOTEO_FREQUENCY_DAYS", "1")
    second = make_campaign(0)
    run(clock, at(2, 12))
    assert len(sent_to()) == 3  # still Friday: held until Saturday, sent on Monday
    run(clock, at(5))
    assert len(sent_to()) == 6
    monkeypatch.setenv("GOTEO_FREQUENCY_DAYS", "0")
    make_campaign(0)
    run(clock, at(5, 12))
    assert len(sent_to()) == 9
    second.refresh_from_db()
    assert second.status == "completed"


def test_it_forecasts_and_schedules_from_the_day_people_become_eligible(first_sent, make_campaign, clock):
    second = make_campaign(0)
    now = at(2, 11)
    assert held_by_day(second, now) == {date(2026, 1, 9): 10}
    assert campaign_forecast(second, now) == date(2026, 1, 9)
    assert next_send_at(second, now) == at(9, 9)
    assert next_recipients(second, now) == []


def test_it_keeps_forecasting_the_people_who_are_free(first_sent, make_campaign, clock):
    second = make_campaign(25, daily_limit=20)  # 25 new people and the 10 held ones
    now = at(2, 11)
    # Friday 2: 20 of the new; Monday 5: the other 5; the held 10 from Friday 9.
    assert campaign_forecast(second, now) == date(2026, 1, 9)
    assert len(next_recipients(second, now)) == 20
    held = set(first_sent.messages.values_list("phone", flat=True))
    assert not {phone for _name, phone in next_recipients(second, now)} & held


def test_it_does_not_hold_a_campaigns_own_retries(make_campaign, clock):
    campaign = make_campaign(1)
    calls = []

    def flaky(message):
        calls.append(message.to)
        if len(calls) == 1:
            raise SendError(SendError.RETRY, "ocupado", retry_after=60)

    MemoryTransport.script = flaky
    run(clock, at(2))
    run(clock, at(2) + timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.sent_count == 1 and len(calls) == 2


def test_it_is_not_fooled_by_a_deleted_contact(make_campaign, clock):
    first = make_campaign(3)
    run(clock, at(2))
    second = make_campaign(2, launch=False)  # the two remaining people plus two new ones
    first.messages.order_by("id").first().contact.delete()  # its message keeps a NULL contact
    campaign_launch(second, clock.now())
    run(clock, at(5))
    second.refresh_from_db()
    assert (second.sent_count, second.pending_count) == (2, 2)
    assert set(second.messages.filter(status="pending").values_list("contact_id", flat=True)) == set(
        first.messages.exclude(contact=None).values_list("contact_id", flat=True)
    )
