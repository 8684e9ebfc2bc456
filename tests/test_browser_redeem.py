"""On a phone at the counter, staff type a customer's code as it comes and mark it redeemed.
Headless Chromium, like tests/test_browser.py."""

from __future__ import annotations

from datetime import date

import pytest

from goteo.launch import campaign_launch
from goteo.models import Campaign, Message, MessageStatus, Promotion, Redemption, Sender
from tests import test_browser as ui

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = ui.browser
clock = ui.clock
shop = ui.shop
screenshots = ui.screenshots
screenshot = ui.screenshot


def test_staff_redeem_a_code_on_a_phone(browser, live_server, shop, clock, screenshot):
    promotion = Promotion.objects.create(
        name="Navidad",
        code="NAVIDAD2026",
        benefit="30% de descuento en Monturas",
        valid_until=date(2026, 2, 2),
    )
    campaign = Campaign.objects.create(
        name="Navidad",
        promotion=promotion,
        sender=Sender.objects.get(),
        template="Hola {name}, tu código: {codigo}",
        unique_codes=True,
    )
    campaign_launch(campaign, clock.now())
    Message.move(campaign.messages.all(), MessageStatus.SENT, clock.now(), sent_at=clock.now())
    message = campaign.messages.order_by("id").first()
    assert message is not None
    typed = message.code.lower().replace("-", " ")  # as read aloud from the customer's phone

    context = ui.phone_context(browser, live_server)
    phone = context.new_page()
    ui.sign_in(phone)
    phone.get_by_text("Menú").click()
    phone.get_by_role("navigation", name="Secciones (menú)").get_by_role("link", name="Canjear").click()
    phone.get_by_placeholder("Código o teléfono del cliente").fill(typed)
    phone.get_by_role("button", name="Buscar").click()
    card = ui.expect(phone.locator(".redeem-item"))
    card.to_contain_text(message.contact_name)
    card.to_contain_text("30% de descuento en Monturas")
    card.to_contain_text("02/02/2026")
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    screenshot(phone, "redeem_phone.png")

    phone.get_by_role("button", name="Marcar como canjeada").click()
    ui.expect(
        phone.get_by_text(f"Canjeado: 30% de descuento en Monturas para {message.contact_name}.")
    ).to_be_visible()
    assert Redemption.objects.get().message == message

    phone.get_by_placeholder("Código o teléfono del cliente").fill(message.code)
    phone.get_by_role("button", name="Buscar").click()
    ui.expect(phone.get_by_text(f"El código {message.code} ya se canjeó")).to_be_visible()
    assert phone.get_by_role("button", name="Marcar como canjeada").count() == 0
    context.close()
