"""Launching: one row per person, nobody lost silently, expired promotions refused."""

from datetime import date, datetime, time

import pytest
from django.db import IntegrityError, transaction

from goteo.audience import preview_recipients
from goteo.content import Content
from goteo.launch import LaunchError, campaign_launch
from goteo.models import Campaign, Contact, ExcludedPhone, Message, Promotion, Tag
from goteo.templating import message_seed
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 1, 2, 9, 0, tzinfo=BOGOTA)


def campaign(sender, audience="all", valid_until=date(2026, 2, 2), template="Hola {name}", **kw):
    promotion = Promotion.objects.create(code="P1", name="P", benefit="b", valid_until=valid_until)
    return Campaign.objects.create(
        name="c", promotion=promotion, sender=sender, template=template, audience=audience, **kw
    )


def test_it_skips_with_a_reason_instead_of_dropping(memory_sender):
    Contact.objects.create(full_name="Ana Ok", phone="+573001000001", consent=True)
    Contact.objects.create(full_name="Beto Sin", phone="+573001000002", consent=False)
    Contact.objects.create(full_name="Caro Baja", phone="+573001000003", consent=True, opted_out=True)
    Contact.objects.create(full_name="Dani Mal", phone="", phone_raw="123", consent=True)
    Contact.objects.create(full_name="Eva Familia", phone="+573001000001", consent=True)
    c = campaign(memory_sender)
    result = campaign_launch(c, NOW)
    reasons = dict(Message.objects.values_list("contact_name", "skip_reason"))
    assert reasons == {
        "Ana Ok": "",
        "Beto Sin": "no_consent",
        "Caro Baja": "opted_out",
        "Dani Mal": "invalid_phone",
        "Eva Familia": "duplicate_phone",
    }
    assert result.total == 5 and result.pending == 1
    c.refresh_from_db()
    assert (c.status, c.total_count, c.pending_count, c.skipped_count) == ("active", 5, 1, 4)


def test_it_stores_the_exact_text_to_send(memory_sender):
    Contact.objects.create(full_name="Daniel Osorio", phone="+573009787566", consent=True)
    c = campaign(memory_sender, template="¡Hola {name}! Código {code}", emojis="✨")
    campaign_launch(c, NOW)
    # The opt-out text is on by default (tests/test_opt_out_footer.py).
    expected = "¡Hola Daniel! Código P1 ✨\n\nResponde BAJA para no recibir más promociones"
    assert Message.objects.get().rendered_text == expected


@pytest.mark.parametrize(
    "template",
    ["¡Hola {name}! Código {code}", "Hola {full_name}, vence el {valid_until}", "[Hola|Buenas] {name}"],
)
def test_it_stores_what_the_preview_shows_for_each_person(memory_sender, template):
    names = ["Ana Ruiz", "Ana Gómez", "Beto Ruiz", "Ana Ruiz", "  Caro  "]
    for i, name in enumerate(names):
        Contact.objects.create(full_name=name, phone=f"+57300100{i:04d}", consent=True)
    c = campaign(memory_sender, template=template)  # the default emoji set, one per message
    campaign_launch(c, NOW)
    messages = list(Message.objects.order_by("id").select_related("contact"))
    content = Content.of(c)
    for m in messages:
        expected = content.text(m.contact.full_name, message_seed(c.pk, str(m.contact_id)))
        assert m.rendered_text == expected, m.contact_name
    assert len({m.rendered_text for m in messages}) > 1


def test_it_chooses_an_audience_by_tag(memory_sender):
    vip = Tag.objects.create(name="vip")
    Contact.objects.create(full_name="A", phone="+573001000001", consent=True).tags.add(vip)
    Contact.objects.create(full_name="B", phone="+573001000002", consent=True)
    c = campaign(memory_sender, audience="tag:vip")
    assert campaign_launch(c, NOW).total == 1


def test_it_refuses_an_unknown_audience(memory_sender):
    with pytest.raises(LaunchError, match="Audiencia"):
        campaign_launch(campaign(memory_sender, audience="todos"), NOW)


def test_it_refuses_to_launch_twice(memory_sender):
    c = campaign(memory_sender)
    campaign_launch(c, NOW)
    with pytest.raises(LaunchError, match="ya fue iniciada"):
        campaign_launch(c, NOW)


def test_it_refuses_an_expired_promotion(memory_sender):
    c = campaign(memory_sender, valid_until=date(2026, 1, 1))
    with pytest.raises(LaunchError, match="venció"):
        campaign_launch(c, NOW)
    c.refresh_from_db()
    assert c.status == "draft" and not c.messages.exists()


def test_it_warns_when_the_pace_cannot_finish_in_time(memory_sender):
    for i in range(100):
        Contact.objects.create(full_name=f"P {i}", phone=f"+57300100{i:04d}", consent=True)
    c = campaign(memory_sender, valid_until=date(2026, 1, 6))
    result = campaign_launch(c, NOW)
    assert result.forecast == date(2026, 1, 8)
    assert any("después del vencimiento" in w for w in result.warnings)


def test_it_warns_above_thirty_a_day(memory_sender):
    Contact.objects.create(full_name="A", phone="+573001000001", consent=True)
    c = campaign(memory_sender, daily_limit=40)
    assert any("no se recomienda" in w for w in campaign_launch(c, NOW).warnings)


def test_the_database_refuses_a_second_row_for_a_person(memory_sender):
    contact = Contact.objects.create(full_name="A", phone="+573001000001", consent=True)
    c = campaign(memory_sender)
    campaign_launch(c, NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(campaign=c, contact=contact, contact_name="A", phone="+573001000009")
    other = Contact.objects.create(full_name="B", phone="+573001000001", consent=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(campaign=c, contact=other, contact_name="B", phone="+573001000001")


def test_an_opt_out_skips_pending_messages_everywhere(memory_sender):
    contact = Contact.objects.create(full_name="A", phone="+573001000001", consent=True)
    c1 = campaign(memory_sender)
    campaign_launch(c1, NOW)
    promo = Promotion.objects.create(code="P2", name="P", benefit="b", valid_until=date(2026, 2, 2))
    c2 = Campaign.objects.create(name="c2", promotion=promo, sender=memory_sender, template="Hola")
    campaign_launch(c2, NOW)
    assert contact.opt_out("inbound", NOW) == 2
    assert set(Message.objects.values_list("status", "skip_reason")) == {("skipped", "opted_out")}
    c1.refresh_from_db()
    assert (c1.pending_count, c1.skipped_count) == (0, 1)


def test_it_rejects_an_unsafe_template_at_creation(memory_sender):
    from django.core.exceptions import ValidationError

    c = campaign(memory_sender, template="Hola {name.__class__}")
    with pytest.raises(ValidationError, match="Marcador no permitido"):
        c.full_clean()


def test_it_launches_in_time_order(memory_sender):
    for i in range(3):
        Contact.objects.create(full_name=f"P{i}", phone=f"+57300100{i:04d}", consent=True)
    c = campaign(memory_sender)
    campaign_launch(c, datetime.combine(date(2026, 1, 2), time(9), tzinfo=BOGOTA))
    assert list(c.messages.order_by("id").values_list("contact_name", flat=True)) == ["P0", "P1", "P2"]


@pytest.mark.parametrize("consenting_first", [True, False])
def test_it_gives_a_shared_phone_to_the_person_who_consented(memory_sender, consenting_first):
    people = [("Ana Consiente", True), ("Beto Sin", False)]
    for name, consent in people if consenting_first else people[::-1]:
        Contact.objects.create(full_name=name, phone="+573001000001", consent=consent)
    c = campaign(memory_sender)
    assert preview_recipients(c, 10) == (1, [("Ana Consiente", "+573001000001")])
    result = campaign_launch(c, NOW)
    rows = {m.contact_name: m for m in Message.objects.all()}
    assert set(rows) == {"Ana Consiente", "Beto Sin"}
    assert (rows["Ana Consiente"].status, rows["Ana Consiente"].phone) == ("pending", "+573001000001")
    beto = rows["Beto Sin"]
    assert (beto.status, beto.skip_reason, beto.phone) == ("skipped", "duplicate_phone", None)
    assert "+573001000001" in beto.last_error
    assert (result.total, result.pending, dict(result.skipped)) == (2, 1, {"duplicate_phone": 1})
    c.refresh_from_db()
    assert (c.total_count, c.pending_count, c.skipped_count) == (2, 1, 1)


def test_it_keeps_one_row_per_phone_when_nobody_with_it_may_receive(memory_sender):
    ExcludedPhone.objects.create(phone="+573001000002", added_at=NOW)
    Contact.objects.create(full_name="Ana Sin", phone="+573001000001", consent=False)
    Contact.objects.create(full_name="Beto Sin", phone="+573001000001", consent=False)
    Contact.objects.create(full_name="Caro Excluida", phone="+573001000002", consent=True)
    Contact.objects.create(full_name="Dani Excluido", phone="+573001000002", consent=True)
    result = campaign_launch(campaign(memory_sender), NOW)
    rows = Message.objects.values_list("contact_name", "skip_reason", "phone")
    assert sorted(rows) == [
        ("Ana Sin", "no_consent", "+573001000001"),
        ("Beto Sin", "duplicate_phone", None),
        ("Caro Excluida", "excluded", "+573001000002"),
        ("Dani Excluido", "duplicate_phone", None),
    ]
    assert (result.total, result.pending) == (4, 0)


def test_a_phone_someone_opted_out_from_gets_no_promotion_through_another_contact(memory_sender):
    # Contact.opt_out skips the phone's pending messages; a launch must agree with it.
    Contact.objects.create(full_name="Mamá Baja", phone="+573001000001", consent=True, opted_out=True)
    Contact.objects.create(full_name="Hijo Acepta", phone="+573001000001", consent=True)
    Contact.objects.create(full_name="Tía Fuera", phone="+573001000002", consent=True, opted_out=True)
    Contact.objects.create(full_name="Primo Vip", phone="+573001000002", consent=True).tags.add(
        Tag.objects.create(name="vip")
    )
    c = campaign(memory_sender)
    assert preview_recipients(c, 10)[0] == 0
    vip = Campaign.objects.create(
        name="v", promotion=c.promotion, sender=memory_sender, template="Hola", audience="tag:vip"
    )
    result = campaign_launch(vip, NOW)
    assert (result.pending, dict(result.skipped)) == (0, {"opted_out": 1})
    result = campaign_launch(c, NOW)
    assert result.pending == 0
    assert sorted(c.messages.values_list("contact_name", "skip_reason")) == [
        ("Hijo Acepta", "duplicate_phone"),
        ("Mamá Baja", "opted_out"),
        ("Primo Vip", "duplicate_phone"),
        ("Tía Fuera", "opted_out"),
    ]


def test_it_refuses_a_second_launch_from_a_copy_read_before_the_first(memory_sender):
    Contact.objects.create(full_name="A", phone="+573001000001", consent=True)
    c = campaign(memory_sender)
    stale = Campaign.objects.get(pk=c.pk)
    campaign_launch(c, NOW)
    with pytest.raises(LaunchError, match="ya fue iniciada"):
        campaign_launch(stale, NOW)
    assert c.messages.count() == 1
