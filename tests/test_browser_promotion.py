"""On a phone, the campaign wizard refuses to rewrite a shared promotion until the owner ticks
the box that lists its campaigns. Headless Chromium, like tests/test_browser.py."""

from __future__ import annotations

from datetime import date

import pytest

from goteo.models import Campaign, Promotion, Sender
from tests import test_browser as ui

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser, the pinned clock, the shop's 100 patients and the screenshots, from the main
# browser tests.
browser = ui.browser
clock = ui.clock
shop = ui.shop
screenshots = ui.screenshots
screenshot = ui.screenshot


def test_it_names_the_change_and_the_campaigns_then_updates_on_request(
    browser, live_server, shop, clock, screenshot
):
    promotion = Promotion.objects.create(
        name="Navidad",
        code="NAVIDAD2026",
        benefit="30% de descuento en Monturas",
        valid_until=date(2026, 2, 2),
    )
    Campaign.objects.create(
        name="Navidad vieja", promotion=promotion, sender=Sender.objects.get(), template="Hola {name}"
    )
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(ui.WAIT_MS)
    phone = context.new_page()
    ui.sign_in(phone)
    phone.goto("/dashboard/promociones/campanas/nueva/")
    phone.get_by_label("Nombre:", exact=True).fill("Otra")
    phone.get_by_label("Nombre de la promoción").fill("Navidad")
    phone.get_by_label("Código:", exact=True).fill("NAVIDAD2026")
    phone.get_by_label("Beneficio").fill("30% de descuento en Monturas")
    phone.get_by_label("Válida hasta").fill("2025-01-01")
    phone.get_by_role("button", name="Guardar como borrador").click()

    form = ui.expect(phone.locator("#campaign-form"))
    form.to_contain_text("válida hasta: 02/02/2026 → 01/01/2025")
    form.to_contain_text("«Navidad vieja»")
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    screenshot(phone, "promotion_conflict_phone.png")
    assert Promotion.objects.get().valid_until == date(2026, 2, 2)

    phone.get_by_label("Válida hasta").fill("2026-03-01")
    phone.get_by_label("Actualizar la promoción existente en todas sus campañas").check()
    phone.get_by_role("button", name="Guardar como borrador").click()
    ui.expect(phone.get_by_text("Promoción NAVIDAD2026 actualizada")).to_be_visible()
    assert Promotion.objects.get().valid_until == date(2026, 3, 1)
    assert Campaign.objects.get(name="Otra").promotion == promotion
    context.close()
