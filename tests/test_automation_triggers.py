"""Each trigger at its edges, through a real enrollment: a birthday at midnight in the number's
zone, 29 February, day 364 and day 365, and a last visit that moved."""

from datetime import date, timedelta

import pytest

from goteo.automations import enroll, start_automation
from goteo.models import CampaignStatus, MessageStatus, SkipReason
from goteo.triggers import TriggerError, parse_trigger
from tests.automations import automation, local, occurrences, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_legal_hours")]


def started(trigger: str = "birthday", now=None, **fields):
    campaign = automation(trigger, **fields)
    start_automation(campaign, now or local(2026, 1, 5))
    campaign.refresh_from_db()
    return campaign


# --- birthdays --------------------------------------------------------------------------------
def test_a_birthday_starts_at_midnight_in_the_numbers_zone_not_in_utc():
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(now=local(2026, 3, 1))
    # 9 March 21:00 in Bogotá is already 10 March in UTC: not her birthday yet where the number is.
    eve = local(2026, 3, 9, 21, 0)
    assert eve.astimezone(local(2026, 1, 1).tzinfo).date() == date(2026, 3, 9)
    assert enroll(campaign, eve).total == 0
    assert enroll(campaign, local(2026, 3, 9, 23, 59)).total == 0
    assert enroll(campaign, local(2026, 3, 10, 0, 0)).pending == 1
    assert occurrences(campaign) == [("Ana", "2026", MessageStatus.PENDING)]


def test_a_number_east_of_utc_greets_before_utc_reaches_the_day():
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(now=local(2026, 3, 1, tz="Asia/Tokyo"), time_zone="Asia/Tokyo")
    just_after_midnight_tokyo = local(2026, 3, 10, 0, 5, tz="Asia/Tokyo")  # 9 March 15:05 UTC
    assert enroll(campaign, just_after_midnight_tokyo).pending == 1
    message = campaign.messages.get()
    # Its last day is the birthday plus 7 days of grace, ending at midnight in Tokyo.
    assert message.deadline == local(2026, 3, 18, 0, 0, tz="Asia/Tokyo")


@pytest.mark.parametrize(
    ("year", "greeted_on"),
    [(2027, date(2027, 2, 28)), (2028, date(2028, 2, 29))],
)
def test_29_february_counts_on_28_february_when_the_year_has_none(year, greeted_on):
    person("Bisiesta", 1, birth_date=date(2000, 2, 29))
    campaign = started(now=local(year, 2, 1), grace_days=0)
    day_before = greeted_on - timedelta(days=1)
    assert enroll(campaign, local(day_before.year, day_before.month, day_before.day, 23, 0)).total == 0
    assert enroll(campaign, local(greeted_on.year, greeted_on.month, greeted_on.day, 8, 0)).pending == 1
    assert occurrences(campaign) == [("Bisiesta", str(year), MessageStatus.PENDING)]
    # With no grace, her message may go out that day only.
    assert campaign.messages.get().deadline == local(year, 3, 1, 0, 0)


def test_a_birthday_missed_on_the_day_is_greeted_within_the_grace_and_never_after():
    person("Ana", 1, birth_date=date(1985, 4, 1))
    person("Beto", 2, birth_date=date(1985, 3, 20))  # 12 days before: past a 7-day grace
    campaign = started(now=local(2026, 3, 1))
    result = enroll(campaign, local(2026, 4, 8))  # day 7 of Ana's grace
    assert result.pending == 1
    assert occurrences(campaign) == [("Ana", "2026", MessageStatus.PENDING)]


def test_next_year_is_a_new_occurrence():
    person("Ana", 1, birth_date=date(1985, 4, 1))
    campaign = started(now=local(2026, 3, 1))
    enroll(campaign, local(2026, 4, 1))
    enroll(campaign, local(2027, 4, 1))
    assert [o for _n, o, _s in occurrences(campaign)] == ["2026", "2027"]


# --- days since the last visit ----------------------------------------------------------------
def test_day_364_waits_and_day_365_enrolls():
    visit = date(2025, 3, 10)
    person("Carla", 1, last_visit=visit)
    campaign = started("days-since:last_visit:365", now=local(2026, 1, 5))
    day_364 = visit + timedelta(days=364)
    assert enroll(campaign, local(day_364.year, day_364.month, day_364.day, 23, 59)).total == 0
    day_365 = visit + timedelta(days=365)
    assert enroll(campaign, local(day_365.year, day_365.month, day_365.day, 0, 0)).pending == 1
    assert occurrences(campaign) == [("Carla", "2025-03-10", MessageStatus.PENDING)]


def test_a_moved_last_visit_skips_the_old_reminder_and_starts_a_new_occurrence():
    carla = person("Carla", 1, last_visit=date(2025, 1, 10))
    campaign = started("days-since:last_visit:365", now=local(2026, 1, 5))
    enroll(campaign, local(2026, 1, 12))
    assert occurrences(campaign) == [("Carla", "2025-01-10", MessageStatus.PENDING)]

    carla.last_visit = date(2026, 1, 13)  # she came in for her exam before the reminder went out
    carla.save()
    enroll(campaign, local(2026, 1, 14))
    old = campaign.messages.get(occurrence="2025-01-10")
    assert (old.status, old.skip_reason) == (MessageStatus.SKIPPED, SkipReason.DATE_MOVED)
    assert old.events.last().actor == "housekeeping"
    assert campaign.messages.count() == 1  # the new date is not due yet

    enroll(campaign, local(2027, 1, 13))  # a year after the new visit
    assert occurrences(campaign)[-1] == ("Carla", "2026-01-13", MessageStatus.PENDING)
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.pending_count, campaign.skipped_count) == (2, 1, 1)


def test_people_who_may_not_receive_get_a_skipped_row_with_the_reason():
    person("Sin permiso", 1, birth_date=date(1990, 5, 5), consent=False)
    person("De baja", 2, birth_date=date(1990, 5, 5), opted_out=True)
    person("Ana", 3, birth_date=date(1990, 5, 5))
    campaign = started(now=local(2026, 5, 1))
    result = enroll(campaign, local(2026, 5, 5))
    assert result.pending == 1
    assert dict(result.skipped) == {SkipReason.NO_CONSENT: 1, SkipReason.OPTED_OUT: 1}
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.pending_count, campaign.skipped_count) == (3, 1, 2)


def test_a_second_contact_with_the_same_phone_gets_no_second_message_for_the_occurrence():
    person("Ana", 1, birth_date=date(1990, 5, 5))
    campaign = started(now=local(2026, 5, 1))
    enroll(campaign, local(2026, 5, 5))
    from goteo.models import Contact

    Contact.objects.create(
        full_name="Ana bis", phone="+573005000001", consent=True, birth_date=date(1991, 5, 5)
    )
    enroll(campaign, local(2026, 5, 6))
    assert occurrences(campaign) == [
        ("Ana", "2026", MessageStatus.PENDING),
        ("Ana bis", "2026", MessageStatus.SKIPPED),
    ]
    assert campaign.messages.last().skip_reason == SkipReason.DUPLICATE_PHONE


def test_a_bad_trigger_is_refused_in_spanish():
    with pytest.raises(TriggerError, match="Disparador desconocido «cumple»"):
        parse_trigger("cumple")
    with pytest.raises(TriggerError, match="Días inválidos «0»"):
        parse_trigger("days-since:last_visit:0")
    assert started().status == CampaignStatus.ACTIVE


def test_odd_digits_in_a_trigger_are_refused_in_spanish_not_with_a_crash():
    with pytest.raises(TriggerError, match="Días inválidos «²»"):
        parse_trigger("days-since:last_visit:²")


def test_the_day_someone_was_born_is_not_their_birthday():
    trigger = parse_trigger("birthday")
    assert trigger.due(date(2026, 3, 10), date(2026, 3, 10), 7) is None
    assert trigger.due(date(2025, 3, 10), date(2026, 3, 10), 7).key == "2026"
    assert trigger.due(date(2025, 12, 30), date(2026, 1, 2), 7) is None  # born four days ago
    assert trigger.due(date(2024, 12, 30), date(2026, 1, 2), 7).key == "2025"  # across the new year
