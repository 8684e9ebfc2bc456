"""Owner pages speak the shop's language: no command names, no "worker", no internal codes.

The command names come from goteo/management/commands/, so a new command is checked too.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

import goteo
from goteo.models import Campaign, Message, MessageStatus, Tag, WorkerHeartbeat
from goteo.sending import Engine
from tests.dashboard import page_text, pin_page_clock, sign_in

# The dashboard is tested beside real sending runs, which refuse to run inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

COMMANDS = sorted(
    path.stem
    for path in (Path(goteo.__file__).parent / "management" / "commands").glob("*.py")
    if not path.stem.startswith("_")
)
# "demo" is also a word a shop may name a tag with; it is caught as «goteo demo».
WHOLE_WORDS = [name for name in COMMANDS if name != "demo"] + ["worker", "workers"]
INTERNAL = [
    "tag:",
    "@lid",
    "@c.us",
    "@s.whatsapp.net",
    "Consola (imprime)",
    "Identificador del proveedor",
    "createsuperuser",
    "{name}",
]


def developer_words(text: str) -> list[str]:
    found = [w for w in WHOLE_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.IGNORECASE)]
    found += [f"goteo {name}" for name in COMMANDS if f"goteo {name}" in text]
    return found + [w for w in INTERNAL if w in text]


def test_it_knows_the_commands():
    assert {"process_campaigns", "run_worker", "warmup", "import_contacts", "demo"} <= set(COMMANDS)


@pytest.fixture
def shop(client, db, clock, monkeypatch, make_campaign, memory_sender):
    """A campaign to the «demo» tag with sends, a failure and an unknown; a worker gone quiet."""
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    pin_page_clock(monkeypatch, clock)
    campaign = make_campaign(12, daily_limit=5, template="¡Hola {nombre}! {beneficio} con el código {codigo}")
    tag = Tag.objects.create(name="demo")
    for message in campaign.messages.all():
        tag.contacts.add(message.contact_id)
    Campaign.objects.filter(pk=campaign.pk).update(audience="tag:demo")
    Engine(clock, max_wait=3600).run([campaign.pk])
    pending = campaign.messages.filter(status=MessageStatus.PENDING).order_by("id")
    Message.move(
        pending.filter(pk=pending[0].pk), MessageStatus.UNKNOWN, clock.now(), last_error="sin respuesta"
    )
    WorkerHeartbeat.beat("tienda:41", clock.now() - timedelta(hours=3))
    draft = make_campaign(3, launch=False, template="Hola {nombre}")
    sign_in(client)
    campaign.refresh_from_db()
    return client, campaign, draft


def owner_pages(campaign: Campaign, draft: Campaign) -> list[str]:
    pages = [
        reverse("goteo:campaign_list"),
        reverse("goteo:campaign_new"),
        reverse("goteo:campaign_detail", args=[campaign.pk]),
        reverse("goteo:campaign_live", args=[campaign.pk]),
        reverse("goteo:campaign_detail", args=[draft.pk]),
        reverse("goteo:campaign_edit", args=[draft.pk]),
        reverse("goteo:campaign_recipients", args=[campaign.pk]),
        reverse("goteo:campaign_recipients", args=[campaign.pk]) + "?estado=unknown",
        reverse("goteo:campaign_test_message", args=[campaign.pk]),
        reverse("goteo:campaign_cancel", args=[campaign.pk]),
        reverse("goteo:contact_list"),
        reverse("goteo:contact_import"),
        reverse("goteo:contact_detail", args=[campaign.messages.first().contact_id]),
        reverse("goteo:contact_edit", args=[campaign.messages.first().contact_id]),
        reverse("goteo:sender_list"),
        reverse("goteo:sender_new"),
        reverse("goteo:sender_edit", args=[campaign.sender_id]),
    ]
    return pages


def test_it_keeps_commands_and_workers_off_every_owner_page(shop):
    client, campaign, draft = shop

    found = {}
    for url in owner_pages(campaign, draft):
        response = client.get(url)
        assert response.status_code == 200, url
        words = developer_words(page_text(response))
        if words:
            found[url] = words

    assert found == {}


def test_it_keeps_them_off_the_login_and_denied_pages(client, db):
    login = page_text(client.get(reverse("goteo:login")))
    sign_in(client, "pepe", staff=False)
    denied = page_text(client.get(reverse("goteo:campaign_list")))

    assert developer_words(login) == [] and developer_words(denied) == []
    assert "staff" not in denied


def test_it_would_catch_a_command_on_a_page():
    assert developer_words("Inicie uno con «goteo run_worker».") == ["run_worker", "goteo run_worker"]
    assert developer_words("Worker: ninguno activo") == ["worker"]
    assert developer_words("Audiencia: etiqueta demo") == []


def test_it_keeps_them_off_the_pages_added_since(shop, clock, settings, tmp_path):
    """The unidentified messages, Conectar WhatsApp of each gateway, lifting a brake, the
    import preview."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from goteo.models import InboundMessage
    from tests.fakes.evolution_pairing import FakeEvolutionPairing
    from tests.fakes.records import evolution_sender, waha_sender
    from tests.fakes.waha_pairing import FakeWahaPairing

    client, campaign, _draft = shop
    settings.DATA_DIR = tmp_path
    campaign.sender.brake("131048: demasiados reportes", clock.now() + timedelta(hours=8), now=clock.now())
    found = {}
    with FakeEvolutionPairing() as evolution, FakeWahaPairing() as waha:
        gateways = [evolution_sender(base_url=evolution.url), waha_sender(base_url=waha.url)]
        # A baja and a question from people WhatsApp does not name (an Evolution @lid sender).
        for n, (text, opt_out) in enumerate([("BAJA", True), ("¿Hasta cuándo?", False)]):
            InboundMessage.objects.create(
                provider="evolution",
                provider_message_id=f"3EB00000000000000{n}",
                sender_ref=f"1371{n}@lid",
                sender=gateways[0],
                text=text,
                is_opt_out=opt_out,
                received_at=clock.now(),
            )
        pages = [
            reverse("goteo:inbound_list"),
            *(reverse("goteo:sender_pairing", args=[sender.pk]) for sender in gateways),
            reverse("goteo:sender_unbrake", args=[campaign.sender_id]),
        ]
        expected = ["¿Hasta cuándo?", "Conectar WhatsApp", "Conectar WhatsApp", "Levantar el freno"]
        for url, words in zip(pages, expected, strict=True):
            response = client.get(url)
            assert response.status_code == 200, url
            assert words in page_text(response), url  # the page really shows what it is for
            found[url] = developer_words(page_text(response))
    csv = "Nombres;Celular;Acepta\nDaniel Osorio;300 978 7566;si\nSin teléfono;;si\n".encode()
    preview = client.post(
        reverse("goteo:contact_import"), {"file": SimpleUploadedFile("clientes.csv", csv, "text/csv")}
    )
    assert preview.status_code == 200 and "Daniel" in page_text(preview)
    found["import preview"] = developer_words(page_text(preview))

    assert {url: words for url, words in found.items() if words} == {}
