"""A message's content, built in one place, and what a promotion changed after launch does to it.

The change applies to every message not yet sent, whether the campaign sends its stored text
or a provider template; a message already on its way keeps what it had.
"""

from datetime import date, datetime, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from goteo.content import Content, outgoing_for, person_seed
from goteo.models import Campaign, Message, MessageStatus
from goteo.sending import Engine
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA, FRIDAY

TEMPLATE = "[Hola|Buenas|Qué tal] {name}: {benefit} hasta el {valid_until}"
PROVIDER_TEMPLATE = {"name": "promo", "language": "es", "params": ["nombre", "beneficio", "valido_hasta"]}
NOW = datetime.combine(FRIDAY, time(9, 30), tzinfo=BOGOTA)


def revise(campaign: Campaign) -> None:
    campaign.promotion.revise(NOW, "pruebas", benefit="40% en monturas", valid_until=date(2026, 3, 3))


def texts(campaign: Campaign) -> dict[int, str]:
    return dict(campaign.messages.order_by("id").values_list("id", "rendered_text"))


@pytest.mark.django_db
def test_it_rewrites_the_pending_texts_keeping_each_persons_variation(make_campaign):
    campaign = make_campaign(6, template=TEMPLATE)
    before = texts(campaign)
    first, second, *_rest = before
    Message.objects.filter(pk=first).update(status=MessageStatus.SENT)
    Message.objects.filter(pk=second).update(status=MessageStatus.SENDING)

    revise(campaign)

    after = texts(campaign)
    assert after[first] == before[first] and after[second] == before[second]  # already on its way
    content = Content.of(Campaign.objects.get(pk=campaign.pk))
    for message in campaign.messages.filter(status=MessageStatus.PENDING):
        old = before[message.pk]
        assert "30% de descuento hasta el 02/02/2026" in old
        assert message.rendered_text == old.replace("30% de descuento", "40% en monturas").replace(
            "02/02/2026", "03/03/2026"
        )
        assert message.rendered_text == content.text(
            message.contact_name, person_seed(campaign.pk, message.contact_id)
        )
    assert len({after[pk].split()[0] for pk in after}) > 1  # the variations are still there


@pytest.mark.django_db
def test_it_rewrites_a_retry_waiting_in_line(make_campaign):
    campaign = make_campaign(1, template=TEMPLATE)
    waiting = campaign.messages.get()
    Message.objects.filter(pk=waiting.pk).update(attempts=1, next_attempt_at=NOW, last_error="time-out")

    revise(campaign)

    waiting.refresh_from_db()
    assert "40% en monturas hasta el 03/03/2026" in waiting.rendered_text


@pytest.mark.django_db
def test_it_leaves_a_text_without_the_promotions_words_as_it_was(make_campaign):
    campaign = make_campaign(3, template="Hola {name}, pase por la tienda")
    before = texts(campaign)

    revise(campaign)

    assert texts(campaign) == before
    assert Content.of(campaign).uses_promotion() is False


@pytest.mark.django_db
def test_it_leaves_a_cancelled_campaign_alone(make_campaign):
    campaign = make_campaign(2, template=TEMPLATE)
    campaign.cancel(NOW)
    before = texts(campaign)

    revise(campaign)

    assert texts(campaign) == before


@pytest.mark.django_db
def test_it_fills_a_provider_template_with_the_promotion_as_it_is_when_sending(make_campaign):
    campaign = make_campaign(1, template=TEMPLATE, provider_template=PROVIDER_TEMPLATE)
    message = campaign.messages.get()

    revise(campaign)

    message.refresh_from_db()  # as the claim reads it
    fresh = Campaign.objects.get(pk=campaign.pk)
    outgoing = outgoing_for(
        fresh,
        name=message.contact_name,
        phone=message.phone,
        text=message.rendered_text,
        message_uuid=message.uuid,
    )
    assert outgoing.variables["beneficio"] == "40% en monturas"
    assert outgoing.variables["valido_hasta"] == "03/03/2026"
    assert outgoing.variables["nombre"] == message.contact_name.split()[0]
    assert outgoing.provider_template == PROVIDER_TEMPLATE
    assert outgoing.message_id == str(message.uuid) and outgoing.to == message.phone
    assert "40% en monturas hasta el 03/03/2026" in outgoing.text  # both kinds say the same


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider_template", [{}, PROVIDER_TEMPLATE], ids=["text", "template"])
def test_it_sends_the_revised_promotion(make_campaign, clock, provider_template):
    make_campaign(2, template=TEMPLATE, provider_template=provider_template)
    revise(Campaign.objects.get())

    Engine(clock, max_wait=3600).run()

    assert len(MemoryTransport.outbox) == 2
    for sent in MemoryTransport.outbox:
        assert "40% en monturas hasta el 03/03/2026" in sent.text
        assert sent.variables["beneficio"] == "40% en monturas"
        assert sent.provider_template == provider_template


@pytest.mark.django_db
def test_it_previews_and_launches_the_same_text(make_campaign):
    campaign = make_campaign(3, template=TEMPLATE, emojis="✨ 🎉")
    content = Content.of(campaign)
    render = content.texts(campaign.pk)
    for message in campaign.messages.all():
        seed = person_seed(campaign.pk, message.contact_id)
        assert message.rendered_text == content.text(message.contact_name, seed)
        assert render(message.contact_id, message.contact_name) == message.rendered_text


@pytest.mark.django_db
def test_it_rewrites_them_when_the_command_updates_the_promotion(make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    campaign = make_campaign(2, template=TEMPLATE)
    args = ["create_campaign", "--name", "otra", "--template", "Hola {name}"]
    args += ["--promotion-code", campaign.promotion.code, "--benefit", "2x1 en lentes", "--update-promotion"]

    call_command(*args, stdout=StringIO(), stderr=StringIO())

    assert all("2x1 en lentes hasta el 02/02/2026" in text for text in texts(campaign).values())


@pytest.mark.django_db
def test_it_rewrites_them_when_the_admin_changes_the_promotion(client, make_campaign):
    from tests.dashboard import make_user

    campaign = make_campaign(2, template=TEMPLATE)
    promotion = campaign.promotion
    client.force_login(make_user("root", superuser=True))
    fields = {"name": promotion.name, "code": "OTRO", "benefit": "2x1 en lentes", "valid_until": "2026-02-02"}

    response = client.post(reverse("admin:goteo_promotion_change", args=[promotion.pk]), fields)

    assert response.status_code == 302
    assert all("2x1 en lentes hasta el 02/02/2026" in text for text in texts(campaign).values())
