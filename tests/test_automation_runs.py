"""Automations on the sending engine: runs repeated, the grace period, caps, pause, resume,
cancel, a crash mid-enrollment, and a week of daily runs with the time injected."""

import json
import random
from datetime import date, timedelta

import pytest

from goteo import automations
from goteo.automations import enroll, run_automations, skip_late, start_automation
from goteo.idle import idle_reason
from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, SkipReason
from goteo.sending import Engine, sql
from goteo.sending.claim import Claim, Claimer
from goteo.transports.memory import MemoryTransport
from tests.automations import automation, local, occurrences, person
from tests.commands import call

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_legal_hours")]


def started(trigger: str = "birthday", now=None, **fields) -> Campaign:
    campaign = automation(trigger, **fields)
    start_automation(campaign, now or local(2026, 3, 1))
    campaign.refresh_from_db()
    return campaign


def run(clock, when):
    clock.set(when)
    return Engine(clock, max_wait=0).run()


def sent_to() -> list[str]:
    return [m.to for m in MemoryTransport.outbox]


def test_runs_repeated_the_same_day_send_nothing_twice(clock):
    person("Ana", 1, birth_date=date(1990, 3, 10))
    person("Beto", 2, birth_date=date(1990, 3, 10))
    campaign = started()
    for minute in (0, 5, 30):
        run(clock, local(2026, 3, 10, 9, minute))
        run_automations(local(2026, 3, 10, 9, minute))
    assert sorted(sent_to()) == ["+573005000001", "+573005000002"]
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.sent_count, campaign.pending_count) == (2, 2, 0)
    assert campaign.status == CampaignStatus.ACTIVE  # an automation never completes by itself


def test_the_daily_limit_still_applies_and_the_rest_wait_with_the_reason(clock):
    for n in range(3):
        person(f"P{n}", n, birth_date=date(1990, 3, 10))
    campaign = started(daily_limit=2)
    run(clock, local(2026, 3, 10, 9))
    assert len(sent_to()) == 2
    campaign.refresh_from_db()
    assert campaign.pending_count == 1
    why = idle_reason(campaign, local(2026, 3, 10, 12))
    assert why.code == "daily_limit"
    run(clock, local(2026, 3, 11, 9))  # the next day, within the grace period
    assert len(sent_to()) == 3


def test_a_message_that_cannot_go_out_within_the_grace_is_skipped_late(clock):
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(grace_days=2, send_days="mon")  # 10 March 2026 is a Tuesday
    run(clock, local(2026, 3, 10, 9))
    message = campaign.messages.get()
    assert message.status == MessageStatus.PENDING
    assert message.deadline == local(2026, 3, 13, 0, 0)
    run(clock, local(2026, 3, 12, 23, 59))
    assert campaign.messages.get().status == MessageStatus.PENDING
    run(clock, local(2026, 3, 13, 0, 0))
    message = campaign.messages.get()
    assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, SkipReason.LATE)
    assert message.events.last().actor == "housekeeping"
    run(clock, local(2026, 3, 16, 9))  # Monday: nothing to send, and nobody enrolled again
    assert sent_to() == []
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.pending_count, campaign.skipped_count) == (1, 0, 1)


def claim_at(campaign: Campaign, now) -> Claim | None:
    found = Claimer("prueba", random.Random(1)).claim(campaign.sender, [campaign], now)
    return found if isinstance(found, Claim) else None


def late_message(campaign: Campaign) -> Message:
    """Ana's birthday message, enrolled with a 1-day grace, now past its deadline unswept."""
    enroll(campaign, local(2026, 3, 10, 9))
    return campaign.messages.get()


def test_the_claim_never_takes_a_message_past_its_deadline_before_the_sweep():
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(grace_days=1)
    message = late_message(campaign)
    assert claim_at(campaign, local(2026, 3, 12, 0, 0)) is None  # the sweep has not run
    assert Message.objects.get(pk=message.pk).status == MessageStatus.PENDING
    assert claim_at(campaign, local(2026, 3, 11, 23, 59)) is not None  # still in time: claimed


def test_it_catches_a_claim_that_ignores_the_deadline(monkeypatch):
    ignored = " AND (deadline IS NULL OR deadline > %s OR TRUE)"
    for name in ("NEXT_PENDING", "HOLD_NEXT"):
        statement = getattr(sql, name).replace(" AND (deadline IS NULL OR deadline > %s)", ignored)
        monkeypatch.setattr(sql, name, statement)
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(grace_days=1)
    late_message(campaign)
    assert claim_at(campaign, local(2026, 3, 12, 0, 0)) is not None, "without the guard it is sent late"


def test_a_paused_automation_enrolls_nobody_and_on_resume_catches_up_within_the_grace(clock):
    person("Ana", 1, birth_date=date(1990, 3, 10))
    person("Beto", 2, birth_date=date(1990, 3, 1))  # his grace ends before the resume
    campaign = started(now=local(2026, 2, 20))
    campaign.pause("vacaciones")
    run(clock, local(2026, 3, 10, 9))
    assert campaign.messages.count() == 0 and sent_to() == []
    campaign.resume()
    run(clock, local(2026, 3, 12, 9))
    assert sent_to() == ["+573005000001"]
    assert occurrences(campaign) == [("Ana", "2026", MessageStatus.SENT)]


def test_a_cancelled_automation_skips_what_waits_and_enrolls_nobody_again(clock):
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(send_days="mon")
    run(clock, local(2026, 3, 10, 9))
    campaign.cancel(local(2026, 3, 10, 10))
    person("Beto", 2, birth_date=date(1990, 3, 11))
    run(clock, local(2026, 3, 11, 9))
    assert occurrences(campaign) == [("Ana", "2026", MessageStatus.SKIPPED)]
    assert campaign.messages.get().skip_reason == SkipReason.CANCELLED


def test_the_promotions_expiry_ends_an_automation(clock):
    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started(valid_until=date(2026, 3, 5))
    run(clock, local(2026, 3, 10, 9))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.messages.count() == 0


def test_a_crash_mid_enrollment_leaves_nobody_half_enrolled(monkeypatch):
    for n in range(3):
        person(f"P{n}", n, birth_date=date(1990, 3, 10))
    campaign = started()
    original = Message.objects.bulk_create

    def written_then_crash(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("se cortó la luz")

    monkeypatch.setattr(Message.objects, "bulk_create", written_then_crash)
    with pytest.raises(RuntimeError):
        enroll(campaign, local(2026, 3, 10, 9))
    assert Message.objects.count() == 0
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.pending_count) == (0, 0)
    monkeypatch.undo()
    assert enroll(campaign, local(2026, 3, 10, 9, 5)).pending == 3
    assert enroll(campaign, local(2026, 3, 10, 9, 10)).total == 0


def test_a_week_of_daily_runs_greets_each_person_once_on_their_day(clock):
    for n in range(7):
        person(f"P{n}", n, birth_date=date(1980 + n, 3, 9 + n))
    campaign = started()
    for day in range(9, 18):
        for hour in (8, 13, 18):
            run(clock, local(2026, 3, day, hour))
            run_automations(local(2026, 3, day, hour, 30))
    sent = Message.objects.filter(status=MessageStatus.SENT).order_by("sent_at")
    assert [m.phone for m in sent] == [f"+57300500{n:04d}" for n in range(7)]
    assert [m.sent_at.astimezone(local(2026, 1, 1).tzinfo).date() for m in sent] == [
        date(2026, 3, 9) + timedelta(days=n) for n in range(7)
    ]
    assert len(sent_to()) == 7
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.sent_count, campaign.status) == (7, 7, CampaignStatus.ACTIVE)


def test_an_active_automation_with_nobody_pending_says_it_waits_never_terminada():
    campaign = started()
    why = idle_reason(campaign, local(2026, 3, 2))
    assert why.code == "waiting_trigger"
    assert "esperando al próximo cumpleaños" in why.text and "terminada" not in why.text
    reminder = started("days-since:last_visit:365")
    assert "365 días desde su última visita" in idle_reason(reminder, local(2026, 3, 2)).text


def test_campaign_status_shows_the_trigger_in_words():
    person("Ana", 1, birth_date=date(1990, 3, 1))
    campaign = started()
    out, _err = call("campaign_status", str(campaign.pk), "--json")
    data = json.loads(out)
    assert data["automation"] is True
    assert (data["trigger"], data["trigger_label"], data["grace_days"]) == (
        "birthday",
        "el día de su cumpleaños",
        7,
    )
    assert data["pending"] == 1
    text, _err = call("campaign_status", str(campaign.pk))
    assert "Automatización: Automatización birthday" in text
    assert "Envía el día de su cumpleaños" in text


def test_skip_late_leaves_one_off_campaigns_alone(make_campaign):
    one_off = make_campaign(3)
    assert skip_late(local(2030, 1, 1)) == 0
    assert one_off.messages.filter(status=MessageStatus.PENDING).count() == 3
    assert automations.launch  # the dispatcher the start button and commands use


def test_the_worker_enrolls_in_its_housekeeping_and_sends(clock):
    from goteo.worker import Worker

    person("Ana", 1, birth_date=date(1990, 3, 10))
    campaign = started()
    clock.set(local(2026, 3, 10, 8))
    Worker(clock, threads=0, exit_when_idle=True, rescan_seconds=60).run()
    assert sent_to() == ["+573005000001"]
    assert occurrences(campaign) == [("Ana", "2026", MessageStatus.SENT)]


def test_the_frequency_cap_holds_a_birthday_greeting_until_it_allows(clock, make_campaign):
    person("Ana", 1, birth_date=date(1990, 3, 10))
    make_campaign(0, now=local(2026, 3, 9, 9), valid_until=date(2026, 12, 31))  # a one-off promotion to all
    run(clock, local(2026, 3, 9, 10))  # Monday: it reaches her
    assert sent_to() == ["+573005000001"]
    campaign = started(now=local(2026, 3, 9, 11))
    run(clock, local(2026, 3, 10, 10))
    message = campaign.messages.get()
    assert message.status == MessageStatus.PENDING
    assert "recibió otra promoción el 09/03" in message.last_error
    run(clock, local(2026, 3, 16, 10))  # the cap's 7 days are over, the grace not yet
    assert sent_to() == ["+573005000001", "+573005000001"]
    assert campaign.messages.get().status == MessageStatus.SENT


def test_a_new_yearly_reminder_enrolls_its_backlog_as_fast_as_its_limit_sends_it(clock):
    for n in range(10):
        person(f"P{n}", n, last_visit=date(2020, 1, 10) - timedelta(days=n))  # P9 is the longest due
    campaign = started("days-since:last_visit:365", now=local(2026, 3, 9, 8), daily_limit=2, grace_days=1)
    # The limit sends 2 a day for the 2 days of its grace: 4 enrolled, the longest due first.
    assert [name for name, _o, _s in occurrences(campaign)] == ["P9", "P8", "P7", "P6"]
    for day in range(9, 15):
        run(clock, local(2026, 3, day, 10))
    campaign.refresh_from_db()
    assert (campaign.total_count, campaign.sent_count, campaign.skipped_count) == (10, 10, 0)
    assert len(set(sent_to())) == 10
