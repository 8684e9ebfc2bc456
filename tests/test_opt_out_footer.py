"""The opt-out text: on by default, configurable, in every promotion and in the preview."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from goteo.models import Campaign
from goteo.sending import Engine
from goteo.templating import Variables, add_footer, message_seed, opt_out_footer, render_promotion
from goteo.transports.memory import MemoryTransport

FOOTER = "Responde BAJA para no recibir más promociones"


def test_it_is_on_by_default(monkeypatch):
    monkeypatch.delenv("GOTEO_OPT_OUT_FOOTER", raising=False)
    assert opt_out_footer() == FOOTER
    assert opt_out_footer(enabled=False) == ""


def test_it_takes_the_installations_text_or_turns_off(monkeypatch):
    monkeypatch.setenv("GOTEO_OPT_OUT_FOOTER", "Escribe SALIR para no recibir más")
    assert opt_out_footer() == "Escribe SALIR para no recibir más"
    for off in ("off", "NO", "0"):
        monkeypatch.setenv("GOTEO_OPT_OUT_FOOTER", off)
        assert opt_out_footer() == ""


def test_it_goes_on_its_own_paragraph_once():
    assert add_footer("Hola ✨", FOOTER) == f"Hola ✨\n\n{FOOTER}"
    already = f"Hola. {FOOTER.lower()}."
    assert add_footer(already, FOOTER) == already
    assert add_footer("Hola", "") == "Hola"


@pytest.mark.django_db(transaction=True)
def test_it_is_added_to_every_promotion_and_sent(make_campaign, clock):
    campaign = make_campaign(3, emojis="✨")
    texts = list(campaign.messages.values_list("rendered_text", flat=True))
    assert all(text.endswith(f"✨\n\n{FOOTER}") for text in texts)
    Engine(clock, max_wait=3600).run()
    assert [m.text for m in MemoryTransport.outbox] == texts


@pytest.mark.django_db(transaction=True)
def test_it_can_be_turned_off_per_campaign(make_campaign):
    campaign = make_campaign(2, opt_out_footer=False)
    assert not campaign.messages.filter(rendered_text__contains="BAJA").exists()


@pytest.mark.django_db(transaction=True)
def test_it_shows_in_the_preview_exactly_as_stored(make_campaign):
    campaign = make_campaign(1, template="[Hola|Buenas] {name}, {benefit}")
    message = campaign.messages.get()
    promotion = campaign.promotion
    preview = render_promotion(
        campaign,
        Variables(message.contact_name, promotion.code, promotion.benefit, promotion.valid_until),
        seed=message_seed(campaign.pk, str(message.contact_id)),
    )
    assert preview == message.rendered_text
    assert preview.endswith(FOOTER)


@pytest.mark.django_db(transaction=True)
def test_it_is_required_under_the_spanish_profile(make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "es")
    campaign = make_campaign(1, launch=False, opt_out_footer=False, window_start="10:00")
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "cada mensaje debe ofrecer la baja" in " ".join(error.value.message_dict["opt_out_footer"])
    campaign.opt_out_footer = True
    campaign.full_clean()
    monkeypatch.setenv("GOTEO_OPT_OUT_FOOTER", "off")  # off for the whole installation
    with pytest.raises(ValidationError):
        campaign.full_clean()


@pytest.mark.django_db(transaction=True)
def test_it_is_left_out_by_create_campaign_on_request(memory_sender):
    out = StringIO()
    call_command(
        "create_campaign",
        "--name=x",
        "--template=Hola {name}",
        "--promotion-code=P",
        "--benefit=b",
        "--valid-until=2099-01-01",
        "--sender=pruebas",
        "--no-opt-out-footer",
        stdout=out,
        stderr=StringIO(),
    )
    assert Campaign.objects.get(pk=int(out.getvalue())).opt_out_footer is False
