"""The segment editor on a 390 px phone: rule by rule without JSON, only the inputs each rule
uses, the count as the rules are typed, an error under its rule, and axe-core. Skipped like tests/test_browser.py
without Chromium or axe-core."""

from __future__ import annotations

from datetime import date

import pytest

from goteo.models import Contact, Segment
from tests.test_browser import (
    AXE,
    browser,
    clock,
    phone_context,
    screenshot,
    screenshots,
    serious_findings,
    shop,
    sign_in,
)

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "clock", "screenshot", "screenshots", "shop"]  # fixtures shared with test_browser


def test_a_segment_is_written_rule_by_rule_on_a_phone(browser, live_server, shop, clock, screenshot):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run «npm ci» at the repository's root")
    lenses = Contact.objects.order_by("id")[:10].values_list("pk", flat=True)
    Contact.objects.filter(pk__in=list(lenses)).update(
        last_visit=date(2024, 6, 1), attributes={"producto": "lentes de contacto"}
    )
    context = phone_context(browser, live_server, bypass_csp=True)  # axe is a script of its own
    phone = context.new_page()
    sign_in(phone)
    findings = {}

    phone.goto("/dashboard/promociones/segmentos/nuevo/")
    phone.get_by_label("Nombre", exact=True).fill("un año sin examen")
    phone.locator("#rule-0-kind").select_option(label="Última visita hace al menos")
    expect(phone.locator("#rule-0-unit")).to_be_visible()
    expect(phone.locator("#rule-0-name")).to_be_hidden()  # only a data rule names its data
    phone.locator("#rule-0-value").fill("12")
    phone.locator("#rule-0-unit").select_option(label="meses")
    phone.get_by_role("button", name="Agregar regla").click()
    phone.locator("#rule-1-kind").select_option(label="Un dato propio es igual a")
    expect(phone.locator("#rule-1-name")).to_be_visible()
    expect(phone.locator("#rule-1-unit")).to_be_hidden()
    phone.locator("#rule-1-name").fill("producto")
    phone.locator("#rule-1-value").fill("lentes de contacto")
    # The count follows the typing; nothing is saved meanwhile.
    expect(phone.get_by_text("10 contactos hoy · 10 pueden recibir promociones")).to_be_visible()
    phone.locator("#rule-0-value").fill("24")
    expect(phone.get_by_text("0 contactos hoy · 0 pueden recibir promociones")).to_be_visible()
    assert not Segment.objects.exists()
    phone.locator("#rule-0-value").fill("12")
    expect(phone.get_by_text("10 contactos hoy · 10 pueden recibir promociones")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    findings["editor"] = serious_findings(phone)
    screenshot(phone, "segment_editor_phone.png")

    phone.locator("#rule-1-name").fill("producto__contains")
    phone.get_by_role("button", name="Guardar").click()
    error = phone.get_by_text(
        "Regla 2 (atributo): el nombre del atributo solo puede tener letras", exact=False
    )
    expect(error).to_be_visible()
    expect(phone.locator("#rule-1-value")).to_have_attribute("aria-invalid", "true")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    findings["error"] = serious_findings(phone)
    assert not Segment.objects.exists()

    phone.locator("#rule-1-name").fill("producto")
    phone.get_by_role("button", name="Guardar").click()
    expect(phone.get_by_text("Segmento «un año sin examen» guardado.")).to_be_visible()
    expect(phone.get_by_text("última visita hace al menos 12 meses")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    findings["list"] = serious_findings(phone)
    screenshot(phone, "segments_phone.png")
    context.close()

    assert Segment.objects.get().rules[1] == {
        "field": "attribute",
        "name": "producto",
        "op": "equals",
        "value": "lentes de contacto",
    }
    assert {name: found for name, found in findings.items() if found} == {}
