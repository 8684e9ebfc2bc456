"""The counter's "Canjear" page: look up by code or phone, mark redeemed, refusals in words."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from goteo.models import Redemption
from goteo.roles import COUNTER
from tests.dashboard import make_user, page_text
from tests.test_redemptions import TEMPLATE, sent

pytestmark = pytest.mark.django_db
URL = reverse("goteo:redeem")


@pytest.fixture
def counter(client, clock, monkeypatch):
    """Signed in as the counter's staff (Mostrador): redeem, read replies, see campaigns."""
    monkeypatch.setattr("goteo.web.base.clock", clock)
    client.force_login(make_user("caja", role=COUNTER))
    return client


@pytest.fixture
def own_codes(make_campaign):
    campaign = make_campaign(2, template=TEMPLATE, unique_codes=True, valid_until=date(2026, 1, 31))
    return campaign, sent(campaign)


def test_it_finds_the_person_by_code_and_marks_it_redeemed(counter, own_codes):
    campaign, messages = own_codes
    message = messages[0]
    page = page_text(counter.get(URL, {"q": message.code.lower()}))
    for shown in (message.contact_name, message.phone, "30% de descuento", "31/01/2026", message.code):
        assert shown in page
    assert "Marcar como canjeada" in page

    response = counter.post(URL, {"q": message.code}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert f"Canjeado: 30% de descuento para {message.contact_name}." in page_text(response)
    redemption = Redemption.objects.get()
    assert (redemption.message, redemption.redeemed_by) == (message, "caja")
    campaign.refresh_from_db()
    assert campaign.redeemed_count == 1


def test_a_second_time_it_says_when_and_by_whom(counter, own_codes, clock):
    _campaign, messages = own_codes
    counter.post(URL, {"q": messages[1].code})
    page = page_text(counter.get(URL, {"q": messages[1].code}))
    assert f"El código {messages[1].code} ya se canjeó el 02/01/2026 a las 10:00 (atendió: caja)." in page
    assert "Marcar como canjeada" not in page
    response = counter.post(URL, {"q": messages[1].code})
    assert response.status_code == 409 and "ya se canjeó" in page_text(response)
    assert Redemption.objects.count() == 1


def test_an_unknown_code_is_said_plainly(counter, own_codes):
    response = counter.get(URL, {"q": "PROMO1-ZZZZZZZZ"})
    assert response.status_code == 200
    assert "No existe el código PROMO1-ZZZZZZZZ: revise cómo está escrito." in page_text(response)


def test_an_expired_promotion_asks_for_a_reason_and_records_it(counter, own_codes, clock):
    _campaign, messages = own_codes
    clock.set(clock.now().replace(month=2, day=3))
    page = page_text(counter.get(URL, {"q": messages[0].code}))
    assert "Esta promoción venció el 31/01/2026" in page
    assert "Aceptar vencida y marcar canjeada" in page
    refused = counter.post(URL, {"q": messages[0].code})
    assert refused.status_code == 409 and "venció el 31/01/2026" in page_text(refused)
    assert not Redemption.objects.exists()
    counter.post(URL, {"q": messages[0].code, "motivo": "cliente de toda la vida"})
    assert Redemption.objects.get().override_reason == "cliente de toda la vida"


def test_a_shared_code_by_phone_then_choosing_the_promotion(counter, make_campaign):
    first = make_campaign(1, template=TEMPLATE)
    [message] = sent(first)
    page = page_text(counter.get(URL, {"q": message.phone}))
    assert first.promotion.code in page and "Marcar como canjeada" in page  # only one: shown at once
    second = make_campaign(0, template=TEMPLATE)  # everyone: the same person again
    sent(second)
    page = page_text(counter.get(URL, {"q": message.phone}))
    assert "se le enviaron varias promociones" in page
    assert first.promotion.code in page and second.promotion.code in page
    counter.post(URL, {"q": message.phone, "promocion": second.promotion.code})
    redemption = Redemption.objects.get()
    assert (redemption.promotion, redemption.campaign, redemption.code) == (second.promotion, second, "")


def test_a_phone_without_promotions(counter, db):
    assert "no se le envió ninguna promoción" in page_text(counter.get(URL, {"q": "3001234567"}))


def test_staff_without_the_permission_get_the_denied_page(client, own_codes):
    _campaign, messages = own_codes
    beto = make_user("beto", role="")  # sees the campaigns, and nothing else
    beto.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(beto)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"q": messages[0].code}).status_code == 403
    assert not Redemption.objects.exists()
    assert "Canjear" not in page_text(client.get(reverse("goteo:campaign_list")))


def test_a_superuser_may_and_sees_it_in_the_menu(client, own_codes):
    client.force_login(make_user("duena", superuser=True))
    page = client.get(reverse("goteo:campaign_list")).content.decode()
    assert page.count(f'href="{URL}"') == 2  # the bar and the phone menu
    assert client.get(URL).status_code == 200


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "ingresar" in response["Location"]


def test_a_post_without_the_csrf_token_is_refused(own_codes):
    _campaign, messages = own_codes
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("caja2", role=COUNTER))
    assert strict.post(URL, {"q": messages[0].code}).status_code == 403
    assert not Redemption.objects.exists()
