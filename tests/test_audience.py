"""Who may receive: the row-by-row rule a launch applies and the one-query rule counts use agree."""

from datetime import datetime
from itertools import product

import pytest

from goteo.audience import AudienceError, Recipients, audience, reachable_count, sendable
from goteo.draft import draft_outlook
from goteo.launch import campaign_launch
from goteo.models import Campaign, Contact, ExcludedPhone, Promotion
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 1, 2, 9, 0, tzinfo=BOGOTA)


def every_kind_of_contact() -> None:
    """One contact per combination of what decides, each alone on its phone, plus shared phones."""
    ExcludedPhone.objects.create(phone="+573009000000", added_at=NOW)
    kinds = product([True, False], [True, False], [True, False], [True, False], ["own", "", "excluded"])
    for i, (consent, opted_out, landline, shares_opt_out, phone_kind) in enumerate(kinds):
        own = f"+576044{i:06d}" if landline else f"+5730010{i:05d}"  # (604): Medellín's fixed lines
        phone = {"own": own, "": "", "excluded": "+573009000000"}[phone_kind]
        Contact.objects.create(full_name=f"P{i}", phone=phone, consent=consent, opted_out=opted_out)
        if shares_opt_out and phone_kind == "own":  # someone else opted out from this phone
            Contact.objects.create(full_name=f"Q{i}", phone=phone, consent=True, opted_out=True)
    for i in range(3):  # one phone, three people: one message
        Contact.objects.create(full_name=f"Familia {i}", phone="+573008000000", consent=i > 0)


def allowed_row_by_row() -> set[int]:
    contacts = Contact.objects.all()
    recipients = Recipients.load(contacts)
    fields = ("id", "phone", "consent", "opted_out", "landline")
    return {
        pk
        for pk, phone, consent, opted_out, landline in contacts.values_list(*fields)
        if recipients.may_receive(phone, consent, opted_out, landline)
    }


@pytest.mark.parametrize("landlines", [False, True], ids=["landlines skipped", "landlines allowed"])
def test_it_says_the_same_in_one_query_and_row_by_row(memory_sender, settings, landlines):
    settings.GOTEO_ALLOW_LANDLINES = landlines
    every_kind_of_contact()

    by_query = set(sendable(Contact.objects.all()).values_list("pk", flat=True))

    assert by_query == allowed_row_by_row()
    assert Contact.objects.filter(landline=True, full_name__startswith="P").count() == 8  # by the phone
    assert len(by_query) == (2 if landlines else 1) + 2  # the lone ones, and two of the family
    promotion = Promotion.objects.create(
        code="P", name="P", benefit="b", valid_until=datetime(2026, 2, 2).date()
    )
    campaign = Campaign.objects.create(
        name="c", promotion=promotion, sender=memory_sender, template="Hola {name}"
    )
    count, _finish, _warning = draft_outlook(campaign, audience(campaign), NOW)
    assert count == reachable_count(Contact.objects.all()) == campaign_launch(campaign, NOW).pending


def test_it_refuses_an_audience_it_cannot_read():
    with pytest.raises(AudienceError, match="Audiencia desconocida 'vip'"):
        audience(Campaign(audience="vip"))
