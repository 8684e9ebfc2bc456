"""On a 390 px phone, a reply posted to goteo's webhook shows in the open "Respuestas" inbox
without a reload, and the owner marks it handled. Headless Chromium, like tests/test_browser.py."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission, User

from goteo.models import Campaign, Contact, Message, MessageStatus, Promotion
from tests import test_browser as ui
from tests.fakes import evolution as evo
from tests.fakes.records import evolution_sender

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser, the pinned clock (Friday 2 January 2026, 10:00 in Bogotá, pages refreshing
# every second) and the shop's 100 patients, from the main browser tests.
browser = ui.browser
clock = ui.clock
shop = ui.shop
screenshots = ui.screenshots
screenshot = ui.screenshot

QUESTION = "¿Cuánto valen las monturas para niños?"


def post_webhook(base_url: str, body: dict) -> int:
    """POST ``body`` to goteo's Evolution webhook over HTTP, as Evolution would."""
    request = urllib.request.Request(
        f"{base_url}/webhooks/evolution/{evo.WEBHOOK_SECRET}/messages-upsert",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_a_reply_shows_in_the_open_inbox_without_a_reload(browser, live_server, shop, clock, screenshot):
    if not ui.AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs axe-core: run «npm ci» at the repository's root")
        pytest.skip("axe-core is not installed: run «npm ci» at the repository's root")
    User.objects.get(username="ana").user_permissions.add(Permission.objects.get(codename="handle_reply"))
    sender = evolution_sender()
    promotion = Promotion.objects.create(
        name="Navidad",
        code="NAVIDAD2026",
        benefit="30% de descuento en Monturas",
        valid_until=date(2026, 2, 2),
    )
    campaign = Campaign.objects.create(
        name="Navidad 2026", promotion=promotion, sender=sender, template="Hola {name}"
    )
    contact = Contact.objects.order_by("id").first()
    assert contact is not None
    Message.objects.create(
        campaign=campaign,
        contact=contact,
        contact_name=contact.full_name,
        phone=contact.phone,
        rendered_text=f"Hola {contact.full_name}",
        status=MessageStatus.SENT,
        sent_at=clock.now() - timedelta(hours=1),
    )
    context = ui.phone_context(browser, live_server, bypass_csp=True)  # axe is a script of its own
    phone = context.new_page()
    ui.sign_in(phone)
    phone.goto("/dashboard/promociones/respuestas/")
    inbox = phone.locator("#replies-live")
    ui.expect(inbox).to_contain_text("No hay respuestas sin atender.")
    phone.evaluate("window.notReloaded = true")

    # Evolution's upsert for a text message (tests/fakes/evolution.py), sent 10:00 in Bogotá.
    assert post_webhook(live_server.url, evo.inbound(contact.phone, QUESTION)) == 200

    ui.expect(inbox).to_contain_text(QUESTION)
    ui.expect(inbox).to_contain_text(contact.full_name)
    ui.expect(inbox).to_contain_text("Campaña: Navidad 2026")
    assert phone.evaluate("window.notReloaded === true"), "the page reloaded"
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    assert ui.serious_findings(phone) == []
    screenshot(phone, "replies_phone.png")

    phone.get_by_role("button", name="Marcar como atendida").click()
    ui.expect(phone.get_by_text("Respuesta marcada como atendida.")).to_be_visible()
    ui.expect(inbox).to_contain_text("No hay respuestas sin atender.")

    phone.get_by_role("link", name="Todas", exact=True).click()
    ui.expect(inbox).to_contain_text("Atendida por ana")
    phone.get_by_role("link", name=contact.full_name).click()  # the person's conversation
    ui.expect(phone.locator(".conversation")).to_contain_text(QUESTION)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert ui.serious_findings(phone) == []
    screenshot(phone, "conversation_phone.png")
    context.close()
    assert Campaign.objects.get(pk=campaign.pk).replied_count == 1
