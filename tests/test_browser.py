"""End to end in headless Chromium (Debian's ``chromium`` package): sign in, write a campaign
with its live preview, launch it, run process_campaigns, watch the card change without
reloading, pause and resume; import contacts; every owner page checked with axe-core at a
phone's width and a desktop's.

Skipped when /usr/bin/chromium is missing, except in CI (CI set), where that is a failure.
axe-core comes from npm (package.json at the repository's root, ``npm ci``); without it the
accessibility tests skip, saying so, except in CI.

Screenshots go to pytest's temporary folder for the run; GOTEO_REFRESH_SCREENSHOTS=1 writes
them to docs/screenshots/ instead, for the README.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from goteo.clock import SimulatedClock
from goteo.demo import demo_patients
from goteo.models import Campaign, CampaignStatus, Contact, Sender, Tag
from tests.conftest import BOGOTA
from tests.dashboard import PASSWORD, make_user, pin_page_clock

# Playwright's sync API runs an event loop in this thread; the ORM calls made here while
# it runs are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
FRIDAY_10 = datetime(2026, 1, 2, 10, 0, tzinfo=BOGOTA)
WAIT_MS = 15_000

if not os.environ.get("CI"):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "CI needs Debian's chromium package at /usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def clock(monkeypatch, settings):
    """Friday 2 January 2026, 10:00 in Bogotá, for the pages and for process_campaigns."""
    pinned = SimulatedClock(FRIDAY_10)
    pin_page_clock(monkeypatch, pinned)
    monkeypatch.setattr("goteo.management.commands.process_campaigns.SystemClock", lambda: pinned)
    settings.GOTEO_DASHBOARD_REFRESH_SECONDS = 1
    return pinned


@pytest.fixture
def page(browser, live_server, clock):
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport=DESKTOP,
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shop(transactional_db):
    """A staff account, a WhatsApp number and the seed's 100 patients (two of them VIP)."""
    make_user("ana")
    Sender.objects.create(name="tienda", backend="memory", daily_cap=30)
    Contact.objects.bulk_create(
        Contact(full_name=name, phone=phone, consent=True) for name, phone in demo_patients(100)
    )
    vip = Tag.objects.create(name="vip")
    for contact in Contact.objects.order_by("id")[:2]:
        contact.tags.add(vip)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: docs/screenshots/ only when GOTEO_REFRESH_SCREENSHOTS=1 asks to
    refresh the README's pictures, otherwise this run's temporary folder (pytest keeps the last
    few), so a normal run never writes into the repository."""
    if os.environ.get("GOTEO_REFRESH_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(screenshots):
    """``screenshot(page, "name.png")`` saves the whole page in the screenshots folder."""

    def save(page: Page, name: str) -> None:
        screenshots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshots / name), full_page=True)

    return save


def sign_in(page: Page) -> None:
    page.goto("/dashboard/promociones/campanas/")
    expect(page).to_have_url(re.compile(r"/dashboard/ingresar/\?next="))
    page.get_by_label("Nombre de usuario").fill("ana")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", name="Campañas", exact=True)).to_be_visible()


def test_it_signs_in_writes_launches_and_watches_a_campaign(page, shop, clock, screenshot):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/dashboard/ingresar/")
    screenshot(page, "login.png")
    sign_in(page)

    page.get_by_role("link", name="Nueva campaña").first.click()
    page.get_by_label("Nombre:", exact=True).fill("Navidad 2026")
    page.get_by_label("Nombre de la promoción").fill("Navidad")
    page.get_by_label("Código:", exact=True).fill("NAVIDAD2026")
    page.get_by_label("Beneficio").fill("30% de descuento en Monturas")
    page.get_by_label("Válida hasta").fill("02/02/2026")
    preview = page.locator("#campaign-preview")
    expect(preview).to_contain_text("100 personas recibirán la promoción")
    expect(preview).to_contain_text("Con 100 personas terminará el jueves 8 de enero.")
    expect(preview).to_contain_text("Código: NAVIDAD2026")
    bubbles = preview.locator(".bubble")
    expect(bubbles).to_have_count(3)
    texts = bubbles.all_inner_texts()
    assert all("Daniel!" in text and "30% de descuento en Monturas" in text for text in texts)
    assert len(set(texts)) > 1  # the greeting or the closing emoji varies

    page.get_by_label("Límite diario").fill("35")
    expect(preview).to_contain_text("Límite diario de 35")
    page.get_by_label("Límite diario").fill("20")
    expect(preview).not_to_contain_text("Límite diario de 35")
    page.get_by_label("Audiencia:", exact=True).select_option("tag:vip")
    expect(preview).to_contain_text("2 personas recibirán la promoción")
    page.get_by_label("Audiencia:", exact=True).select_option("all")
    expect(preview).to_contain_text("100 personas recibirán la promoción")
    screenshot(page, "new_campaign.png")

    page.get_by_role("button", name="Iniciar campaña").click()
    expect(page.get_by_text("Campaña iniciada: 100 mensajes por enviar, 0 omitidos.")).to_be_visible()
    card = page.locator("#campaign-live")
    expect(card).to_contain_text("Total: 100 clientes")
    expect(card).to_contain_text("✅ Enviados: 0 de 100 (0%)")
    expect(card).to_contain_text("Estado: En progreso")
    page.evaluate("window.sinRecargar = true")

    call_command("process_campaigns", stdout=open(os.devnull, "w"))  # noqa: SIM115

    expect(card).to_contain_text("✅ Enviados: 20 de 100 (20%)")
    expect(card).to_contain_text("⏳ Pendientes: 80 (80%)")
    expect(card).to_contain_text("Próximo envío: Lunes 09:00")
    expect(card).to_contain_text("Terminación estimada: jueves 8 de enero de 2026")
    assert page.evaluate("window.sinRecargar") is True  # the card changed without a reload
    screenshot(page, "campaign.png")

    page.get_by_role("button", name="Pausar").click()
    expect(card).to_contain_text("Estado: Pausada")
    expect(card).to_contain_text("Pausada por ana desde el panel")
    page.get_by_role("button", name="Reanudar").click()
    expect(card).to_contain_text("Estado: En progreso")
    campaign = Campaign.objects.get(name="Navidad 2026")
    assert campaign.status == CampaignStatus.ACTIVE and campaign.sent_count == 20

    page.get_by_role("link", name="Destinatarios").click()
    expect(page.get_by_role("heading", name="Destinatarios")).to_be_visible()
    expect(page.locator(".rows.recipients")).to_contain_text("Daniel Osorio")
    screenshot(page, "recipients.png")

    page.get_by_role("link", name="Campañas", exact=True).first.click()
    expect(page.locator(".campaign-row")).to_contain_text("✅ Enviados: 20 de 100 (20%)")
    screenshot(page, "campaigns.png")

    page.get_by_role("link", name="Números", exact=True).click()
    expect(page.locator(".sender-row")).to_contain_text("Conectado")
    screenshot(page, "senders.png")
    assert errors == []  # no script errors, nothing blocked by the Content-Security-Policy


def test_it_works_on_a_phone(browser, live_server, shop, clock, screenshot):
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(WAIT_MS)
    phone = context.new_page()
    campaign = launched_campaign(clock)
    sign_in(phone)

    phone.goto(f"/dashboard/promociones/campanas/{campaign.pk}/")

    card = phone.locator("#campaign-live")
    expect(card).to_contain_text("✅ Enviados: 20 de 100 (20%)")
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    phone.get_by_role("button", name="Pausar").click()
    expect(card).to_contain_text("Estado: Pausada")
    screenshot(phone, "campaign_phone.png")
    context.close()


CONTACTS_FILE = (
    "nombre,telefono,consentimiento,etiquetas\n"
    "Ximena Zuluaga,320 987 6543,si,vip\n"
    "Sin Teléfono,,si,\n"
    "Pedro Díaz,3001,si,\n"
    "Carlos Ruiz,310 555 1234,tal vez,\n"
    "Óptica Centro,(604) 444 5555,si,\n"
)


def test_it_previews_then_imports_contacts_and_reports_rejected_rows(
    page, shop, tmp_path, settings, screenshot
):
    settings.DATA_DIR = tmp_path
    csv_file = tmp_path / "clientes.csv"
    csv_file.write_text(CONTACTS_FILE, encoding="utf-8")
    sign_in(page)
    page.get_by_role("link", name="Contactos", exact=True).click()
    page.get_by_role("link", name="Importar CSV").click()

    page.get_by_label("Archivo CSV").set_input_files(str(csv_file))
    page.get_by_role("button", name="Ver vista previa").click()

    preview = page.locator(".import-preview")
    expect(preview).to_contain_text("Filas que se importarán: 2")
    expect(preview).to_contain_text("telefono (columna B)")
    expect(preview).to_contain_text("teléfono: (604) 444 5555 es un teléfono fijo")
    assert not Contact.objects.filter(full_name="Ximena Zuluaga").exists()
    screenshot(page, "contacts_import_preview.png")
    page.get_by_role("button", name="Importar 2 contactos").click()

    report = page.locator(".import-report")
    expect(report).to_contain_text("✅ Nuevos: 2")
    expect(report).to_contain_text("❌ Filas rechazadas: 3")
    expect(report).to_contain_text("consentimiento: valor 'tal vez' no reconocido")
    expect(report).to_contain_text("⚠️ Avisos: 1")
    screenshot(page, "contacts_import.png")

    page.get_by_role("link", name="Ver contactos").click()
    page.get_by_placeholder("Buscar por nombre o teléfono").fill("320 987 6543")
    page.get_by_role("button", name="Buscar").click()
    row = page.locator(".rows.contacts li", has_text="Ximena Zuluaga")
    row.locator("summary").click()
    row.get_by_role("button", name="Dar de baja").click()
    expect(page.get_by_text("Ximena Zuluaga ya no recibirá promociones")).to_be_visible()
    assert Contact.objects.get(phone="+573209876543").opted_out
    page.goto("/dashboard/promociones/contactos/")
    screenshot(page, "contacts.png")


def phone_context(browser, live_server, **options):
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        **options,
    )
    context.set_default_timeout(WAIT_MS)
    return context


def test_it_inserts_a_placeholder_at_the_cursor_and_previews_it(page, shop):
    sign_in(page)
    page.goto("/dashboard/promociones/campanas/nueva/")
    box = page.get_by_label("Plantilla:", exact=True)
    box.fill("Hola , te esperamos")
    box.evaluate("box => box.setSelectionRange(5, 5)")

    page.get_by_role("button", name="Nombre", exact=True).click()

    expect(box).to_have_value("Hola {nombre}, te esperamos")
    expect(page.locator("#campaign-preview .bubble").first).to_contain_text("Hola Daniel, te esperamos")
    advanced = page.locator("details.advanced")
    expect(advanced.get_by_label("Plantilla aprobada del proveedor")).to_be_hidden()
    advanced.locator("summary").click()
    expect(advanced.get_by_label("Plantilla aprobada del proveedor")).to_be_visible()


def test_it_opens_the_phone_menu_without_javascript(browser, live_server, shop):
    context = phone_context(browser, live_server, java_script_enabled=False)
    phone = context.new_page()
    sign_in(phone)
    header = phone.locator("header.topbar")
    assert header.bounding_box()["height"] <= 64  # one line, not three

    expect(phone.get_by_role("link", name="Contactos", exact=True)).to_be_hidden()
    phone.get_by_text("Menú").click()
    phone.get_by_role("link", name="Contactos", exact=True).click()

    expect(phone.get_by_role("heading", name=re.compile("^Contactos"))).to_be_visible()
    expect(phone.get_by_role("link", name="Administración")).to_have_count(0)  # not on the phone menu
    context.close()


def test_it_fits_fifty_people_in_a_few_phone_screens(browser, live_server, shop, clock):
    context = phone_context(browser, live_server)
    phone = context.new_page()
    campaign = launched_campaign(clock)
    sign_in(phone)

    heights = {}
    for name, url in [
        ("recipients", f"/dashboard/promociones/campanas/{campaign.pk}/destinatarios/"),
        ("contacts", "/dashboard/promociones/contactos/"),
    ]:
        phone.goto(url)
        expect(phone.locator(".rows .item")).to_have_count(50)
        heights[name] = phone.evaluate("document.documentElement.scrollHeight")
    context.close()

    print(f"\nPage heights at 390 px with 50 rows: {heights}")
    # Before: 12,940 px (recipients) and 9,220 px (contacts), as one card per row.
    assert all(height <= 4 * PHONE["height"] for height in heights.values()), heights


def owner_pages(campaign: Campaign) -> list[tuple[str, str]]:
    """(screenshot name, address) of every page a shop owner uses."""
    base = f"/dashboard/promociones/campanas/{campaign.pk}/"
    return [
        ("campaigns", "/dashboard/promociones/campanas/"),
        ("campaign", base),
        ("new_campaign", "/dashboard/promociones/campanas/nueva/"),
        ("recipients", base + "destinatarios/"),
        ("test_message", base + "prueba/"),
        ("cancel", base + "cancelar/"),
        ("contacts", "/dashboard/promociones/contactos/"),
        ("contacts_import", "/dashboard/promociones/contactos/importar/"),
        ("contact_data", f"/dashboard/promociones/contactos/{campaign.messages.first().contact_id}/datos/"),
        ("senders", "/dashboard/promociones/numeros/"),
        ("sender", f"/dashboard/promociones/numeros/{campaign.sender_id}/"),
    ]


def later_owner_pages(clock) -> list[tuple[str, str]]:
    """The pages behind an unidentified opt-out, a WAHA number to link and a braked number."""
    from django.urls import reverse

    from goteo.models import InboundMessage
    from tests.fakes.records import waha_sender

    InboundMessage.objects.create(
        provider="waha",
        provider_message_id="AXE-1",
        sender_ref="13718@lid",
        text="BAJA",
        is_opt_out=True,
        received_at=clock.now(),
    )
    gateway = waha_sender("óptica")  # nothing listens there: the page says it cannot reach it
    gateway.brake("Freno automático: la calidad del número está en ROJO", clock.now() + timedelta(hours=8))
    return [
        ("unidentified", reverse("goteo:inbound_list")),
        ("connect_whatsapp", reverse("goteo:sender_pairing", args=[gateway.pk])),
        ("unbrake", reverse("goteo:sender_unbrake", args=[gateway.pk])),
    ]


def serious_findings(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is shown."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_it_passes_axe_on_every_owner_page(browser, live_server, shop, clock, width, screenshot):
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI needs axe-core: run «npm ci» at the repository's root")
        pytest.skip("axe-core is not installed: run «npm ci» at the repository's root")
    options = {"bypass_csp": True}  # axe is added as a script of its own, which the policy would refuse
    if width == "phone":
        context = phone_context(browser, live_server, **options)
    else:
        context = browser.new_context(
            base_url=live_server.url,
            locale="es-CO",
            timezone_id="America/Bogota",
            viewport=DESKTOP,
            **options,
        )
        context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/dashboard/ingresar/")
    findings = {"login": serious_findings(page)}
    suffix = "_phone" if width == "phone" else ""
    screenshot(page, f"login{suffix}.png")
    campaign = launched_campaign(clock)
    sign_in(page)
    for name, url in owner_pages(campaign):
        page.goto(url)
        findings[name] = serious_findings(page)
        screenshot(page, f"{name}{suffix}.png")
    for name, url in later_owner_pages(clock):  # after, so the pages above show no alert
        page.goto(url)
        findings[name] = serious_findings(page)
        screenshot(page, f"{name}{suffix}.png")
    context.close()

    assert {name: found for name, found in findings.items() if found} == {}


def launched_campaign(clock) -> Campaign:
    """The seed's campaign launched on Friday morning with its first 20 messages out."""
    from goteo.launch import campaign_launch
    from goteo.models import Promotion

    promotion = Promotion.objects.create(
        name="Navidad",
        code="NAVIDAD2026",
        benefit="30% de descuento en Monturas",
        valid_until=date(2026, 2, 2),
    )
    campaign = Campaign.objects.create(
        name="Navidad 2026",
        promotion=promotion,
        sender=Sender.objects.get(name="tienda"),
        template="🎄 ¡[Hola|Buen día] {name}! {benefit} con el código {code}",
        daily_limit=20,
    )
    campaign_launch(campaign, clock.now())
    call_command("process_campaigns", stdout=open(os.devnull, "w"))  # noqa: SIM115
    campaign.refresh_from_db()
    return campaign


def test_a_person_matches_an_unidentified_opt_out_on_a_phone(browser, live_server, shop, clock, screenshot):
    from goteo.models import InboundMessage

    contact = Contact.objects.order_by("id").first()
    InboundMessage.objects.create(
        provider="evolution",
        provider_message_id="3EB0BROWSER",
        sender_ref="13718@lid",
        text="BAJA",
        is_opt_out=True,
        received_at=clock.now(),
    )
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(WAIT_MS)
    phone = context.new_page()
    sign_in(phone)

    alert = phone.get_by_role("alert")
    expect(alert).to_contain_text("1 pedido de baja de alguien sin identificar")
    alert.get_by_role("link").click()
    expect(phone.get_by_role("heading", name=re.compile("Mensajes sin identificar"))).to_be_visible()
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    screenshot(phone, "unidentified_phone.png")
    phone.get_by_label("Teléfono o nombre del contacto").fill(contact.phone)
    phone.get_by_role("button", name="Asignar").click()

    expect(phone.get_by_role("status")).to_contain_text(f"{contact.full_name} quedó dado de baja")
    expect(phone.get_by_role("alert")).to_have_count(0)
    contact.refresh_from_db()
    assert contact.opted_out is True
    context.close()


def test_it_connects_a_whatsapp_web_number_on_a_phone(browser, live_server, shop, settings, screenshot):
    """On a 390 px phone: the QR appears, then the page turns to the linked account by itself."""
    from tests.fakes.records import waha_sender
    from tests.fakes.waha_pairing import FakeWahaPairing

    settings.GOTEO_PAIRING_REFRESH_SECONDS = 1
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(WAIT_MS)
    phone = context.new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    with FakeWahaPairing() as waha:
        waha_sender("óptica", base_url=waha.url)
        sign_in(phone)
        phone.goto("/dashboard/promociones/numeros/")
        phone.get_by_role("link", name="Conectar WhatsApp").click()
        expect(phone.get_by_role("heading", name="Conectar WhatsApp")).to_be_visible()
        phone.get_by_role("button", name="Conectar WhatsApp").click()

        qr = phone.get_by_role("img", name="Código QR para vincular el número")
        expect(qr).to_be_visible()
        assert phone.evaluate("document.querySelector('img.qr').naturalWidth") > 0, "the QR image is drawn"
        wide = phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
        screenshot(phone, "connect_whatsapp_qr.png")

        waha.link("Óptica Central")  # the owner scans the QR with the shop's phone
        block = phone.locator("#pairing")
        expect(block).to_contain_text("Conectado")
        expect(block).to_contain_text("Óptica Central")
        expect(block).to_contain_text("+573009990000")
        expect(qr).to_have_count(0)
        expect(phone.get_by_role("button", name="Pedir código de vinculación")).to_be_hidden()
        screenshot(phone, "connect_whatsapp_linked.png")

        block.get_by_role("link", name="Desconectar").click()
        phone.get_by_role("button", name="Sí, desconectar").click()
        expect(phone.get_by_text("quedó desconectado de WhatsApp")).to_be_visible()
        assert waha.status == "STOPPED"
    assert errors == []
    context.close()


def test_it_lifts_a_brake_from_a_phone_after_confirming(browser, live_server, shop, clock):
    sender = Sender.objects.get(name="tienda")
    sender.brake(
        "Freno automático: la calidad del número está en ROJO", datetime(2026, 1, 2, 23, 59, tzinfo=BOGOTA)
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

    phone.goto("/dashboard/promociones/numeros/")
    phone.get_by_role("link", name="Levantar freno").click()
    expect(phone.get_by_role("heading", name="¿Levantar el freno de «tienda»?")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("la calidad del número está en ROJO")
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    phone.get_by_role("button", name="Sí, levantar el freno").click()

    expect(phone.locator("body")).to_contain_text("Freno levantado: «tienda» puede volver a enviar.")
    expect(phone.get_by_role("link", name="Levantar freno")).to_have_count(0)
    sender.refresh_from_db()
    assert sender.paused_until is None
    assert sender.brake_log[-1]["by"] == "ana"
    context.close()


def test_the_import_preview_fits_a_phone(browser, live_server, shop, clock, tmp_path, settings, screenshot):
    settings.DATA_DIR = tmp_path
    csv_file = tmp_path / "clientes.csv"
    csv_file.write_text(CONTACTS_FILE, encoding="utf-8")
    context = browser.new_context(
        base_url=live_server.url,
        locale="es-CO",
        timezone_id="America/Bogota",
        viewport={"width": 390, "height": 844},
    )
    phone = context.new_page()
    sign_in(phone)
    phone.goto("/dashboard/promociones/contactos/importar/")
    phone.get_by_label("Archivo CSV").set_input_files(str(csv_file))
    phone.get_by_role("button", name="Ver vista previa").click()

    expect(phone.locator(".import-preview")).to_contain_text("Primeras filas")
    wide = phone.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the preview is {wide}px wide on a 390px phone"
    screenshot(phone, "contacts_import_preview_phone.png")
    phone.get_by_role("button", name="Cancelar").click()
    expect(phone.get_by_text("Importación cancelada: no se guardó nada.")).to_be_visible()
    assert not Contact.objects.filter(full_name="Ximena Zuluaga").exists()
    context.close()
