"""Legal sending hours by country: the co, es and none profiles, at their edges."""

from datetime import time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from goteo.compliance import (
    PROFILES,
    active_profile,
    campaign_notices,
    campaign_violations,
    effective_hours,
    get_profile,
)
from goteo.launch import LaunchError, campaign_launch
from goteo.models import Campaign, Contact
from goteo.schedule import SendingRules
from goteo.sending import Engine
from goteo.status import next_send_at
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA, at

CO, ES, NONE = PROFILES["co"], PROFILES["es"], PROFILES["none"]
MADRID = ZoneInfo("Europe/Madrid")
MON_TO_SAT = frozenset(range(6))
EVERY_DAY = frozenset(range(7))


def rules(profile, start=time(0), end=time.max, days=EVERY_DAY, tz=BOGOTA):
    return SendingRules(start, end, days, tz, profile.holidays_country, profile.hours)


def violations(profile=CO, start=time(9), end=time(19), days=range(5), holidays=True, footer=True):
    return campaign_violations(
        profile,
        window_start=start,
        window_end=end,
        weekdays=days,
        skip_holidays=holidays,
        has_opt_out_text=footer,
    )


# --- the co profile (Ley 2300 de 2023) -------------------------------------------------
def test_it_opens_at_seven_and_closes_at_seven_on_weekdays_under_co():
    r = rules(CO)
    assert not r.is_open(at(2026, 1, 2, 6, 59, 59))  # Friday
    assert r.is_open(at(2026, 1, 2, 7))
    assert r.is_open(at(2026, 1, 2, 18, 59, 59))
    assert not r.is_open(at(2026, 1, 2, 19))


def test_it_opens_at_eight_and_closes_at_three_on_saturday_under_co():
    r = rules(CO)
    assert not r.is_open(at(2026, 1, 3, 7, 59, 59))  # Saturday
    assert r.is_open(at(2026, 1, 3, 8))
    assert r.is_open(at(2026, 1, 3, 14, 59, 59))
    assert not r.is_open(at(2026, 1, 3, 15))


def test_it_never_opens_on_sunday_or_a_holiday_under_co():
    r = rules(CO)
    assert not r.is_open(at(2026, 1, 4, 10))  # Sunday
    assert not r.is_open(at(2026, 1, 12, 10))  # Monday, Reyes Magos (festivo)
    assert r.is_open(at(2026, 1, 13, 10))
    assert r.next_open(at(2026, 1, 3, 15)) == at(2026, 1, 5, 7)


def test_it_narrows_the_campaign_window_to_the_legal_hours_per_day():
    r = rules(CO, start=time(9), end=time(19), days=MON_TO_SAT)
    assert r.window_on(at(2026, 1, 2).date()) == (time(9), time(19))
    assert r.window_on(at(2026, 1, 3).date()) == (time(9), time(15))
    assert r.window_on(at(2026, 1, 4).date()) is None
    assert r.window_seconds(at(2026, 1, 3).date()) == 6 * 3600
    assert r.window_seconds() == 10 * 3600  # the campaign's own window, as before
    assert effective_hours(CO, 5, time(16), time(19)) is None


def test_it_accepts_the_default_campaign_under_co():
    assert violations() == []
    assert violations(start=time(7), end=time(19), days=range(6)) == []


def test_it_refuses_sunday_naming_the_law():
    found = violations(days=range(7))
    assert [v.field for v in found] == ["send_days"]
    assert found[0].message == ("Ley 2300 de 2023 (Colombia): no se permite enviar promociones los domingos.")


@pytest.mark.parametrize("start,end", [(time(6, 59), time(19)), (time(9), time(19, 1))])
def test_it_refuses_a_window_outside_seven_to_seven(start, end):
    found = violations(start=start, end=end)
    assert [v.field for v in found] == ["window_start"]
    assert "solo se permite enviar de 07:00 a 19:00" in found[0].message
    assert "Ley 2300 de 2023" in found[0].message


def test_it_narrows_saturday_with_a_notice_instead_of_refusing():
    assert violations(days=range(6)) == []
    notices = campaign_notices(CO, window_start=time(9), window_end=time(19), weekdays=range(6))
    assert notices == ["Los sábados se envía solo de 09:00 a 15:00 (Ley 2300 de 2023 (Colombia))."]


def test_it_refuses_saturday_when_the_window_leaves_no_legal_hour():
    found = violations(start=time(15), end=time(19), days=[5])
    assert len(found) == 1
    assert "los sábados solo se permite enviar de 08:00 a 15:00" in found[0].message


def test_it_refuses_sending_on_public_holidays():
    found = violations(holidays=False)
    assert [(v.field, v.message) for v in found] == [
        ("skip_holidays", "Ley 2300 de 2023 (Colombia): no se permite enviar promociones en festivos.")
    ]


# --- the es and none profiles ----------------------------------------------------------
def test_it_allows_nine_to_nine_on_weekdays_under_es():
    r = rules(ES, tz=MADRID)
    assert not r.is_open(at(2026, 1, 2, 8, 59, 59, tz=MADRID))
    assert r.is_open(at(2026, 1, 2, 20, 59, 59, tz=MADRID))
    assert not r.is_open(at(2026, 1, 2, 21, tz=MADRID))
    assert not r.is_open(at(2026, 1, 3, 12, tz=MADRID))  # Saturday
    assert not r.is_open(at(2026, 1, 6, 12, tz=MADRID))  # Epiphany, national holiday


def test_it_requires_the_opt_out_text_under_es():
    assert violations(ES) == []
    found = violations(ES, footer=False, days=range(6))
    assert {v.field for v in found} == {"opt_out_footer", "send_days"}
    assert any("cada mensaje debe ofrecer la baja" in v.message for v in found)


def test_it_applies_no_legal_rule_under_none():
    assert (
        violations(NONE, start=time(0), end=time(23, 59), days=range(7), holidays=False, footer=False) == []
    )
    assert rules(NONE).is_open(at(2026, 1, 4, 3))  # a Sunday night


def test_it_reads_the_profile_from_the_environment(monkeypatch):
    monkeypatch.delenv("GOTEO_COMPLIANCE_PROFILE", raising=False)
    assert active_profile() is CO
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "ES")
    assert active_profile() is ES
    with pytest.raises(ValueError, match="use co, es, none"):
        get_profile("fr")


def test_it_describes_each_profile_in_one_sentence():
    assert CO.describe() == (
        "Ley 2300 de 2023 (Colombia): promociones solo lunes a viernes de 07:00 a 19:00, "
        "sábados de 08:00 a 15:00; nunca domingos ni festivos."
    )
    assert "cada mensaje debe ofrecer la baja" in ES.describe()


# --- campaigns, the database and the engine --------------------------------------------
def draft(make_campaign, **fields):
    return make_campaign(3, launch=False, **fields)


@pytest.mark.django_db(transaction=True)
def test_it_refuses_an_unlawful_campaign_when_it_is_validated(make_campaign):
    campaign = draft(make_campaign, send_days="mon,sun", window_start=time(6))
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "Ley 2300" in " ".join(error.value.message_dict["send_days"])
    assert "07:00 a 19:00" in " ".join(error.value.message_dict["window_start"])


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_launch_an_unlawful_campaign(make_campaign, clock):
    campaign = draft(make_campaign, send_days="sat,sun")
    with pytest.raises(LaunchError, match="domingos"):
        campaign_launch(campaign, clock.now())
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.total_count == 0


@pytest.mark.django_db(transaction=True)
def test_it_refuses_create_campaign_with_the_rule(memory_sender):
    Contact.objects.create(full_name="Ana", phone="+573001112233", consent=True)
    with pytest.raises(CommandError, match=r"días de envío: Ley 2300 de 2023 \(Colombia\): .* domingos"):
        call_command(
            "create_campaign",
            "--name=x",
            "--template=Hola {name}",
            "--promotion-code=P",
            "--benefit=b",
            "--valid-until=2099-01-01",
            "--sender=pruebas",
            "--days=mon,sun",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert not Campaign.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_warns_at_creation_that_saturday_ends_at_three(memory_sender):
    err = StringIO()
    call_command(
        "create_campaign",
        "--name=x",
        "--template=Hola {name}",
        "--promotion-code=P",
        "--benefit=b",
        "--valid-until=2099-01-01",
        "--sender=pruebas",
        "--days=mon,tue,wed,thu,fri,sat",
        stdout=StringIO(),
        stderr=err,
    )
    assert "Aviso: Los sábados se envía solo de 09:00 a 15:00" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_sends_on_saturday_until_three_and_resumes_on_monday(make_campaign, clock):
    campaign = make_campaign(5, send_days="mon,tue,wed,thu,fri,sat", delay_seconds=10)
    clock.set(at(2026, 1, 3, 14, 59, 55))
    Engine(clock, max_wait=3600).run()
    assert len(MemoryTransport.outbox) == 1  # the next one would be after 15:00
    clock.set(at(2026, 1, 3, 15))
    Engine(clock, max_wait=3600).run()
    assert len(MemoryTransport.outbox) == 1
    campaign.refresh_from_db()
    assert campaign.pending_count == 4
    assert next_send_at(campaign, clock.now()) == at(2026, 1, 5, 9)


@pytest.mark.django_db(transaction=True)
def test_it_pauses_a_campaign_when_the_profile_changes_under_it(make_campaign, clock, monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    campaign = make_campaign(5, send_days="mon,tue,wed,thu,fri,sat,sun", window_start=time(6))
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "co")
    summary = Engine(clock, max_wait=3600).run()
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert campaign.pause_reason.startswith("Fuera del horario legal: Ley 2300 de 2023 (Colombia)")
    assert "domingos" in campaign.pause_reason
    assert summary.sent == 0 and MemoryTransport.outbox == []
    assert any("pausada" in note for note in summary.notes)


@pytest.mark.django_db(transaction=True)
def test_it_never_sends_outside_the_profile_even_before_the_pause(make_campaign, clock, monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    campaign = make_campaign(2, window_start=time(6))
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "co")
    clock.set(at(2026, 1, 2, 6, 30))
    assert not campaign.sending_rules().is_open(clock.now())
    assert campaign.sending_rules().next_open(clock.now()) == at(2026, 1, 2, 7)
