"""Test mode in headless Chromium on a 390 px phone: start a simulation, see it apart from sends."""

from __future__ import annotations

from datetime import date, time
from io import StringIO

import pytest
from django.core.management import call_command

from goteo.models import Campaign, Promotion, Sender
from tests.test_browser import WAIT_MS, browser, clock, shop, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

from playwright.sync_api import expect  # noqa: E402


def test_it_starts_a_simulation_on_a_phone_and_shows_it_apart(browser, live_server, shop, clock, tmp_path):  # noqa: F811
    sender = Sender.objects.create(name="mostrador", backend="console", daily_cap=30)
    promotion = Promotion.objects.create(
        code="ENSAYO", name="Ensayo", benefit="10%", valid_until=date(2026, 2, 2)
    )
    draft = Campaign.objects.create(
        name="Ensayo",
        promotion=promotion,
        sender=sender,
        template="Hola {name}",
        daily_limit=5,
        delay_seconds=0,
        window_start=time(7),
        window_end=time(19),
    )
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(WAIT_MS)
    phone = context.new_page()
    sign_in(phone)
    phone.goto(f"/dashboard/promociones/campanas/{draft.pk}/")
    card = phone.locator("#campaign-live")
    expect(card).to_contain_text("El número está en modo de prueba: los mensajes no salen por WhatsApp.")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.get_by_label("Iniciar como simulación (nada sale por WhatsApp)").check()
    phone.get_by_role("button", name="Iniciar campaña").click()
    expect(card).to_contain_text("Simulación — modo de prueba: los mensajes no salen por WhatsApp.")
    call_command("process_campaigns", stdout=StringIO())
    phone.reload()

    expect(card).to_contain_text("✅ Enviados: 0 de 100 (0%)")
    expect(card).to_contain_text("🧪 Simulados (nadie los recibió): 5 (5%)")
    expect(phone.locator(".sender-box")).to_contain_text("Modo de prueba: los mensajes no salen por WhatsApp")
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    phone.screenshot(path=str(tmp_path / "simulation_phone.png"), full_page=True)
    context.close()
