"""On a phone, the owner edits a patient's dates and own data and sees them on the contact's page.
Headless Chromium, like tests/test_browser.py."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from goteo.models import Contact
from tests import test_browser as ui

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = ui.browser
clock = ui.clock
shop = ui.shop
screenshots = ui.screenshots
screenshot = ui.screenshot


def test_the_owner_edits_dates_and_data_on_a_phone(browser, live_server, shop, clock, screenshot):
    contact = Contact.objects.order_by("id").first()
    assert contact is not None
    contact.attributes = {"producto": "gafas"}
    contact.save()
    context = ui.phone_context(browser, live_server, bypass_csp=True)
    page = context.new_page()
    ui.sign_in(page)

    page.goto(f"/dashboard/promociones/contactos/{contact.pk}/")
    page.get_by_role("link", name="Editar fechas y datos").click()
    page.get_by_label("Fecha de nacimiento").fill("14/02/1985")
    page.get_by_label("Última visita").fill("03/11/2025")
    page.get_by_role("button", name="Agregar otra fila").click()
    names, values = page.get_by_label("Dato"), page.get_by_label("Valor")
    expect(names).to_have_count(2)
    values.nth(0).fill("lentes de contacto")
    names.nth(1).fill("graduación")
    values.nth(1).fill("-1.25")
    wide = page.evaluate("document.documentElement.scrollWidth")
    findings = [] if not ui.AXE.exists() else ui.serious_findings(page)
    screenshot(page, "contact_data_phone.png")
    page.get_by_role("button", name="Guardar").click()

    expect(page.get_by_text("Datos de")).to_be_visible()
    expect(page.get_by_text("lentes de contacto")).to_be_visible()
    context.close()
    assert wide <= 390, f"the form is {wide}px wide on a 390px phone"
    assert findings == []
    contact.refresh_from_db()
    assert (contact.birth_date, contact.last_visit) == (date(1985, 2, 14), date(2025, 11, 3))
    assert contact.attributes == {"producto": "lentes de contacto", "graduación": "-1.25"}
