"""Once per person: per campaign for a campaign, per occurrence for an automation, in the database."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

from goteo.models import Campaign, Contact, Message, Promotion

BEFORE = [("goteo", "0015_roles")]
AFTER = [("goteo", "0016_automations")]


def message(campaign, contact, occurrence="", phone=None):
    return Message.objects.create(
        campaign=campaign,
        contact=contact,
        contact_name=contact.full_name,
        phone=phone or contact.phone,
        rendered_text="Hola",
        occurrence=occurrence,
    )


@pytest.fixture
def ana(db):
    return Contact.objects.create(full_name="Ana", phone="+573001000001", consent=True)


@pytest.fixture
def automation(memory_sender):
    promotion = Promotion.objects.create(code="CUMPLE", name="P", benefit="b", valid_until=date(2027, 1, 1))
    return Campaign.objects.create(
        name="cumpleaños", promotion=promotion, sender=memory_sender, template="Hola", trigger="birthday"
    )


@pytest.mark.django_db
def test_a_person_gets_one_message_per_occurrence_and_never_two(automation, ana):
    message(automation, ana, "2026")
    message(automation, ana, "2027")  # next year's birthday is a new occurrence
    for phone in (None, "+573009999999"):  # the same contact, or the same phone under another name
        with pytest.raises(IntegrityError), transaction.atomic():
            message(automation, ana, "2026", phone=phone)
    other = Contact.objects.create(full_name="Otra", phone=ana.phone, consent=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        message(automation, other, "2026")
    assert sorted(Message.objects.values_list("occurrence", flat=True)) == ["2026", "2027"]


@pytest.mark.django_db
def test_a_campaign_still_refuses_a_second_row_for_a_person(automation, ana):
    campaign = Campaign.objects.create(
        name="navidad", promotion=automation.promotion, sender=automation.sender, template="Hola"
    )
    message(campaign, ana)
    with pytest.raises(IntegrityError), transaction.atomic():
        message(campaign, ana)


@pytest.mark.django_db(transaction=True)
def test_upgrading_keeps_every_message_and_its_rule(migrate_to):
    old = migrate_to(BEFORE)
    Sender, Promotion = old.get_model("goteo", "Sender"), old.get_model("goteo", "Promotion")
    OldCampaign, OldMessage = old.get_model("goteo", "Campaign"), old.get_model("goteo", "Message")
    sender = Sender.objects.create(name="principal", backend="memory")
    promotion = Promotion.objects.create(code="P", name="P", benefit="b", valid_until=date(2026, 2, 2))
    campaign = OldCampaign.objects.create(name="c", promotion=promotion, sender=sender, template="Hola")
    OldMessage.objects.create(
        campaign=campaign, contact_name="x", phone="+573001000001", rendered_text="Hola"
    )

    new = migrate_to(AFTER)
    NewMessage = new.get_model("goteo", "Message")
    kept = NewMessage.objects.get()
    assert (kept.phone, kept.occurrence, kept.deadline) == ("+573001000001", "", None)
    assert new.get_model("goteo", "Campaign").objects.get().trigger == ""
    with pytest.raises(IntegrityError), transaction.atomic():
        NewMessage.objects.create(
            campaign_id=campaign.pk, contact_name="y", phone=kept.phone, rendered_text="Hola"
        )
