"""Campaigns name a saved segment as their audience: ``segment:NOMBRE``, on the number's day."""

from datetime import date, datetime

import pytest
from django.core.management.base import CommandError

from goteo.audience import AudienceError, audience, reachable_count
from goteo.launch import campaign_launch
from goteo.models import Campaign, Contact, Promotion, Segment, Sender, SkipReason
from goteo.web.forms import CampaignForm
from tests.commands import create
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db
BIRTHDAY_TODAY = [{"field": "birth_date", "op": "birthday_within", "value": 1}]


@pytest.fixture
def birthdays(db):
    Contact.objects.create(full_name="Uno", phone="+573001230001", consent=True, birth_date=date(1990, 1, 1))
    Contact.objects.create(full_name="Dos", phone="+573001230002", consent=True, birth_date=date(1990, 1, 2))
    Contact.objects.create(full_name="Sin permiso", phone="+573001230003", birth_date=date(1980, 1, 2))
    Contact.objects.create(
        full_name="Otro día", phone="+573001230004", consent=True, birth_date=date(1990, 3, 9)
    )
    return Segment.objects.create(name="cumpleaños de hoy", rules=BIRTHDAY_TODAY)


def campaign_for(segment: Segment, sender: Sender) -> Campaign:
    promotion = Promotion.objects.create(code="CUMPLE", name="c", benefit="b", valid_until=date(2026, 2, 2))
    return Campaign.objects.create(
        name="Cumpleaños",
        promotion=promotion,
        sender=sender,
        template="Hola {name}",
        audience=segment.audience_spec,
    )


def test_a_launch_messages_the_segment_and_skips_who_may_not_receive(birthdays, memory_sender):
    campaign = campaign_for(birthdays, memory_sender)

    result = campaign_launch(campaign, datetime(2026, 1, 2, 9, tzinfo=BOGOTA))

    messages = {m.contact.full_name: m for m in campaign.messages.select_related("contact")}
    assert set(messages) == {"Dos", "Sin permiso"}
    assert result.pending == 1
    assert messages["Sin permiso"].skip_reason == SkipReason.NO_CONSENT


def test_relative_rules_count_from_the_numbers_day_not_the_servers(birthdays):
    tokyo = Sender.objects.create(name="tokio", backend="memory", daily_cap=30, time_zone="Asia/Tokyo")
    campaign = campaign_for(birthdays, tokyo)
    noon_in_bogota = datetime(2026, 1, 1, 12, tzinfo=BOGOTA)  # already the 2nd in Tokyo

    names = set(audience(campaign, now=noon_in_bogota).values_list("full_name", flat=True))

    assert names == {"Dos", "Sin permiso"}
    assert reachable_count(audience(campaign, today=date(2026, 1, 1))) == 1  # Uno


def test_an_unknown_segment_is_refused_in_spanish_naming_those_that_exist(birthdays):
    with pytest.raises(
        AudienceError, match="No existe el segmento «nadie» \\(segmentos: cumpleaños de hoy\\)"
    ):
        audience(Campaign(audience="segment:nadie"))


def test_create_campaign_checks_the_segment_like_a_tag(birthdays, monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "memory")
    with pytest.raises(
        CommandError, match=r"--audience: No existe el segmento «nadie».*No se creó la campaña"
    ):
        create("--audience", "segment:nadie")
    assert not Campaign.objects.exists()

    campaign, _warnings = create("--audience", "segment:cumpleaños de hoy")

    assert campaign.audience == "segment:cumpleaños de hoy"


def test_the_campaign_form_offers_saved_segments_by_name(birthdays, memory_sender):
    choices = dict(CampaignForm().fields["audience"].choices)

    assert choices["segment:cumpleaños de hoy"] == "Segmento: cumpleaños de hoy"
