"""On a phone, the wizard shows the chosen picture above the caption before anything is sent.
Headless Chromium, like tests/test_browser.py."""

from __future__ import annotations

import pytest

from goteo.models import CampaignMedia
from tests import test_browser as ui
from tests.fakes.media_samples import jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

browser = ui.browser
clock = ui.clock
shop = ui.shop
screenshots = ui.screenshots
screenshot = ui.screenshot


def test_it_previews_the_picture_and_attaches_it(
    browser, live_server, shop, clock, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    picture = tmp_path / "monturas.jpg"
    picture.write_bytes(jpeg())
    context = ui.phone_context(browser, live_server)
    phone = context.new_page()
    ui.sign_in(phone)
    phone.goto("/dashboard/promociones/campanas/nueva/")
    figure = phone.locator("#media-preview")
    ui.expect(figure).to_be_hidden()

    phone.get_by_label("Imagen, PDF o video (opcional)").set_input_files(str(picture))

    ui.expect(figure.locator("img")).to_be_visible()
    ui.expect(figure.locator("img")).to_have_attribute("alt", "monturas.jpg")
    screenshot(phone, "campaign_media_preview_phone.png")
    phone.get_by_label("Nombre:", exact=True).fill("Monturas")
    phone.get_by_label("Nombre de la promoción").fill("Monturas")
    phone.get_by_label("Código:", exact=True).fill("MONTURAS")
    phone.get_by_label("Beneficio").fill("30% de descuento en Monturas")
    phone.get_by_label("Válida hasta").fill("28/02/2026")
    phone.get_by_role("button", name="Guardar como borrador").click()
    ui.expect(phone.locator("h1")).to_contain_text("Monturas")
    assert CampaignMedia.objects.get().original_name == "monturas.jpg"
    context.close()
