"""A code per person: drawn at launch, unique, shown in the text, kept on retry and revision."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from goteo import codes
from goteo.codes import ALPHABET, LENGTH, draw_codes, example_code, normalize_code
from goteo.content import Content
from goteo.launch import LaunchError, PersonCodes, campaign_launch
from goteo.models import Campaign, Contact, Message, MessageStatus, Promotion
from goteo.sending import Engine
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA, FRIDAY
from tests.dashboard import page_text
from tests.test_view_campaign_form import form_data

TEMPLATE = "¡Hola {name}! {benefit} con el código {codigo}"
LAUNCH = datetime.combine(FRIDAY, time(9, 0), tzinfo=BOGOTA)


def own_code(promotion_code: str) -> re.Pattern[str]:
    return re.compile(re.escape(promotion_code) + "-[" + ALPHABET + "]{" + str(LENGTH) + "}")


def test_it_draws_no_ambiguous_characters():
    assert not set("0O1I") & set(ALPHABET)
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    drawn = draw_codes("navidad2026", 2000, set())
    assert len(set(drawn)) == 2000
    assert all(own_code("NAVIDAD2026").fullmatch(code) for code in drawn)


def test_it_never_draws_a_code_already_seen(monkeypatch):
    suffixes = iter([["AAAAAAAA", "BBBBBBBB"], ["CCCCCCCC"]])
    monkeypatch.setattr(codes, "draw_suffixes", lambda count: next(suffixes))
    assert draw_codes("P", 2, {"P-AAAAAAAA"}) == ["P-BBBBBBBB", "P-CCCCCCCC"]


def test_it_reads_a_code_typed_loosely():
    assert normalize_code(" navidad2026 7k3f 9qx2 ") == "NAVIDAD2026-7K3F9QX2"
    assert normalize_code("NAVIDAD20267K3F9QX2") == "NAVIDAD2026-7K3F9QX2"
    assert normalize_code("nav-2026-7k3f9qx2") == "NAV-2026-7K3F9QX2"


def test_a_long_promotion_code_still_fits_the_message():
    [code] = draw_codes("X" * 64, 1, set())
    assert len(code) <= Message._meta.get_field("code").max_length


@pytest.mark.django_db
def test_each_person_gets_their_own_code_in_their_text(make_campaign):
    campaign = make_campaign(30, template=TEMPLATE, unique_codes=True)
    Contact.objects.create(full_name="Sin Permiso", phone="+573020000001", consent=False)
    messages = list(campaign.messages.filter(status=MessageStatus.PENDING))
    assert len(messages) == 30
    assert len({m.code for m in messages}) == 30
    for message in messages:
        assert own_code(campaign.promotion.code).fullmatch(message.code)
        assert f"con el código {message.code} " in message.rendered_text
        assert message.rendered_text.count(campaign.promotion.code) == 1


@pytest.mark.django_db
def test_skipped_people_get_no_code(make_campaign):
    Contact.objects.create(full_name="Sin Permiso", phone="+573020000001", consent=False)
    campaign = make_campaign(2, template=TEMPLATE, unique_codes=True)
    skipped = campaign.messages.get(status=MessageStatus.SKIPPED)
    assert skipped.code == ""


@pytest.mark.django_db
def test_without_own_codes_everyone_reads_the_shared_code(make_campaign):
    campaign = make_campaign(3, template=TEMPLATE)
    assert set(campaign.messages.values_list("code", flat=True)) == {""}
    for text in campaign.messages.values_list("rendered_text", flat=True):
        assert f"con el código {campaign.promotion.code} " in text


@pytest.mark.django_db
@pytest.mark.parametrize("template", ["[Hola|Buenas] {name}: {codigo}", "Hola {full_name}, {code}"])
def test_the_text_is_the_one_the_preview_renders_with_that_code(make_campaign, template):
    campaign = make_campaign(5, template=template, unique_codes=True)
    content = Content.of(campaign)
    for message in campaign.messages.all():
        from goteo.content import person_seed

        seed = person_seed(campaign.pk, message.contact_id)
        assert message.rendered_text == content.text(message.contact_name, seed, message.code)


@pytest.mark.django_db
def test_a_code_already_on_another_message_is_drawn_again(make_campaign, monkeypatch):
    first = make_campaign(1, template=TEMPLATE, unique_codes=True)
    taken = first.messages.get().code
    prefix, suffix = taken.rsplit("-", 1)
    rounds = iter([[suffix], ["ZZZZZZZZ"]])
    monkeypatch.setattr(codes, "draw_suffixes", lambda count: next(rounds))
    assert PersonCodes(prefix).fresh(1) == [f"{prefix}-ZZZZZZZZ"]


@pytest.mark.django_db
def test_only_a_promotion_that_already_gave_codes_is_looked_up(make_campaign):
    first = make_campaign(1, template=TEMPLATE, unique_codes=True)
    assert not PersonCodes("OTRA").look_up
    assert not PersonCodes(first.promotion.code, first.pk).look_up
    assert PersonCodes(first.promotion.code.lower()).look_up


@pytest.mark.django_db
def test_own_codes_need_the_code_in_the_message(make_campaign):
    campaign = make_campaign(1, launch=False, template="Hola {name}", unique_codes=True)
    with pytest.raises(LaunchError, match=r"agregue \{codigo\}"):
        campaign_launch(campaign, LAUNCH)
    assert not campaign.messages.exists()


@pytest.mark.django_db
def test_a_provider_template_showing_the_code_is_enough(make_campaign):
    template = {"name": "promo", "language": "es", "params": ["nombre", "codigo"]}
    campaign = make_campaign(1, template="Hola {name}", unique_codes=True, provider_template=template)
    assert campaign.messages.get().code


@pytest.mark.django_db
def test_a_promotion_change_keeps_each_persons_code(make_campaign):
    campaign = make_campaign(4, template=TEMPLATE, unique_codes=True)
    before = dict(campaign.messages.values_list("id", "code"))
    campaign.promotion.revise(LAUNCH, "ana", benefit="2x1 en gafas de sol")
    for message in campaign.messages.all():
        assert message.code == before[message.pk]
        assert f"2x1 en gafas de sol con el código {message.code} " in message.rendered_text


@pytest.mark.django_db(transaction=True)
def test_a_retry_sends_the_same_code_in_text_and_template_variables(make_campaign, clock):
    template = {"name": "promo", "language": "es", "params": ["nombre", "codigo"]}
    campaign = make_campaign(1, template=TEMPLATE, unique_codes=True, provider_template=template)
    code = campaign.messages.get().code
    tries = []

    def fail_first(message):
        tries.append(message)
        if len(tries) == 1:
            raise SendError(SendError.RETRY, "conexión rechazada")

    MemoryTransport.script = fail_first
    Engine(clock, max_wait=0).run()
    assert campaign.messages.get().status == MessageStatus.PENDING
    clock.advance(seconds=61)
    Engine(clock, max_wait=0).run()
    assert campaign.messages.get().status == MessageStatus.SENT
    assert len(tries) == 2
    assert tries[0].text == tries[1].text and code in tries[1].text
    assert tries[0].variables["codigo"] == tries[1].variables["codigo"] == code


@pytest.mark.django_db(transaction=True)
def test_a_failed_message_sent_again_keeps_its_code(make_campaign, clock):
    campaign = make_campaign(1, template=TEMPLATE, unique_codes=True)
    code = campaign.messages.get().code
    MemoryTransport.script = lambda m: (_ for _ in ()).throw(SendError(SendError.PERMANENT, "rechazado"))
    Engine(clock, max_wait=0).run()
    assert campaign.messages.get().status == MessageStatus.FAILED
    MemoryTransport.script = None
    campaign.messages.requeue_failed(clock.now())
    clock.advance(seconds=61)
    Engine(clock, max_wait=0).run()
    [sent] = MemoryTransport.outbox
    assert campaign.messages.get().code == code and code in sent.text and sent.variables["codigo"] == code


@pytest.mark.slow
@pytest.mark.django_db
def test_codes_are_distinct_across_100000_messages(memory_sender):
    Contact.objects.bulk_create(
        (Contact(full_name=f"P {i}", phone=f"+57310{i:07d}", consent=True) for i in range(100_000)),
        batch_size=5000,
    )
    promotion = Promotion.objects.create(
        code="NAVIDAD2026", name="N", benefit="b", valid_until=date(2026, 2, 2)
    )
    campaign = Campaign.objects.create(
        name="grande", promotion=promotion, sender=memory_sender, template=TEMPLATE, unique_codes=True
    )
    result = campaign_launch(campaign, LAUNCH)
    assert result.pending == 100_000
    codes_drawn = list(campaign.messages.values_list("code", flat=True))
    assert len(set(codes_drawn)) == 100_000
    assert all(own_code("NAVIDAD2026").fullmatch(code) for code in codes_drawn)


# --- the command and the wizard -----------------------------------------------------------


@pytest.mark.django_db
def test_create_campaign_unique_codes(patients, memory_sender, no_legal_hours):
    out = StringIO()
    call_command(
        "create_campaign",
        "--name=Navidad",
        f"--template={TEMPLATE}",
        "--promotion-code=NAVIDAD2026",
        "--benefit=2x1",
        "--valid-until=31/12/2099",
        "--sender=pruebas",
        "--unique-codes",
        "--start",
        stdout=out,
        stderr=StringIO(),
    )
    campaign = Campaign.objects.get(pk=int(out.getvalue().strip()))
    assert campaign.unique_codes
    codes_drawn = set(campaign.messages.values_list("code", flat=True))
    assert len(codes_drawn) == 5 and all(own_code("NAVIDAD2026").fullmatch(c) for c in codes_drawn)


@pytest.mark.django_db
def test_create_campaign_refuses_own_codes_the_message_does_not_show(memory_sender):
    with pytest.raises(CommandError, match=r"--unique-codes: .*\{codigo\}.*No se creó la campaña"):
        call_command(
            "create_campaign",
            "--name=Navidad",
            "--template=Hola {name}",
            "--promotion-code=NAVIDAD2026",
            "--benefit=2x1",
            "--valid-until=31/12/2099",
            "--sender=pruebas",
            "--unique-codes",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert not Campaign.objects.exists()


def test_an_example_code_stays_the_same_while_one_types():
    assert example_code("NAVIDAD2026", "Ana") == example_code("NAVIDAD2026", "Ana")
    assert own_code("NAVIDAD2026").fullmatch(example_code("NAVIDAD2026", "Ana"))


@pytest.mark.django_db(transaction=True)
def test_the_wizard_checkbox_saves_it_and_the_preview_shows_an_example_code(staff, patients, memory_sender):
    data = form_data(memory_sender, template=TEMPLATE, unique_codes="on")
    text = page_text(staff.post(reverse("goteo:campaign_preview"), data))
    assert own_code("NAVIDAD2026").search(text)
    shared = page_text(
        staff.post(reverse("goteo:campaign_preview"), form_data(memory_sender, template=TEMPLATE))
    )
    assert "con el código NAVIDAD2026 " in shared and not own_code("NAVIDAD2026").search(shared)

    response = staff.post(reverse("goteo:campaign_new"), {**data, "action": "save"})
    assert response.status_code == 302, page_text(response)
    assert Campaign.objects.get().unique_codes


@pytest.mark.django_db(transaction=True)
def test_the_wizard_refuses_own_codes_without_the_code_in_the_message(staff, patients, memory_sender):
    data = form_data(memory_sender, template="Hola {name}", unique_codes="on", action="save")
    response = staff.post(reverse("goteo:campaign_new"), data)
    assert response.status_code == 200
    assert "Con un código por persona, el mensaje debe mostrarlo" in page_text(response)
    assert not Campaign.objects.exists()
