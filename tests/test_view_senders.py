"""WhatsApp numbers: connection state, add and edit, credentials write-only."""

from __future__ import annotations

import re
from datetime import date

from django.urls import reverse

from goteo.models import Sender
from goteo.transports.memory import MemoryTransport
from tests.dashboard import page_text

TOKEN = "EAAG-secreto-que-nunca-se-muestra"


def cloud_data(**changes):
    data = {
        "name": "tienda",
        "backend": "cloud",
        "daily_cap": "30",
        "time_zone": "America/Bogota",
        "is_active": "on",
        "cloud__token": TOKEN,
        "cloud__phone_number_id": "1234567890",
    }
    data.update(changes)
    return data


def test_it_lists_numbers_with_their_connection(staff, memory_sender):
    text = page_text(staff.get(reverse("goteo:sender_list")))

    assert "pruebas" in text
    assert "Conectado" in text
    assert "conectado (memoria)" in text


def test_it_shows_a_disconnected_number(staff, memory_sender):
    MemoryTransport.connected = False

    text = page_text(staff.get(reverse("goteo:sender_list")))

    assert "Desconectado" in text


def test_it_checks_the_connection_on_demand(staff, memory_sender, clock):
    staff.get(reverse("goteo:sender_list"))  # remembered as connected
    MemoryTransport.connected = False

    response = staff.post(reverse("goteo:sender_check", args=[memory_sender.pk]), follow=True)

    assert "«pruebas» no puede enviar: WhatsApp desconectado" in page_text(response)


def test_it_adds_a_number_and_keeps_the_token_secret(staff, db):
    response = staff.post(reverse("goteo:sender_new"), cloud_data())

    assert response.status_code == 302
    sender = Sender.objects.get(name="tienda")
    assert sender.secrets == {"token": TOKEN}
    assert sender.config["phone_number_id"] == "1234567890"
    assert "token" not in sender.config
    page = staff.get(reverse("goteo:sender_edit", args=[sender.pk])).content.decode()
    assert TOKEN not in page
    assert "guardado; en blanco lo conserva" in page
    assert TOKEN not in staff.get(reverse("goteo:sender_list")).content.decode()


def test_it_keeps_the_stored_secret_when_the_field_is_blank(staff, db):
    staff.post(reverse("goteo:sender_new"), cloud_data())
    sender = Sender.objects.get(name="tienda")

    staff.post(reverse("goteo:sender_edit", args=[sender.pk]), cloud_data(cloud__token="", daily_cap="25"))

    sender.refresh_from_db()
    assert sender.secrets == {"token": TOKEN}
    assert sender.daily_cap == 25


def test_it_replaces_a_secret_when_a_new_one_is_typed(staff, db):
    staff.post(reverse("goteo:sender_new"), cloud_data())
    sender = Sender.objects.get(name="tienda")

    staff.post(reverse("goteo:sender_edit", args=[sender.pk]), cloud_data(cloud__token="nuevo-token"))

    sender.refresh_from_db()
    assert sender.secrets == {"token": "nuevo-token"}


def test_it_drops_old_secrets_when_the_provider_changes(staff, db):
    staff.post(reverse("goteo:sender_new"), cloud_data())
    sender = Sender.objects.get(name="tienda")

    staff.post(reverse("goteo:sender_edit", args=[sender.pk]), cloud_data(backend="console"))

    sender.refresh_from_db()
    assert sender.backend == "console"
    assert sender.secrets == {}


def test_it_does_not_let_the_environment_sender_be_rewired(staff, db):
    sender = Sender.get_default()

    staff.post(
        reverse("goteo:sender_edit", args=[sender.pk]),
        {"name": sender.name, "backend": "cloud", "daily_cap": "12", "cloud__token": "x"},
    )

    sender.refresh_from_db()
    assert sender.daily_cap == 12
    assert sender.backend != "cloud"
    assert sender.secrets == {}


def test_it_refuses_an_unknown_time_zone(staff, db):
    response = staff.post(reverse("goteo:sender_new"), cloud_data(time_zone="Marte/Olympus"))

    assert "Zona horaria desconocida" in page_text(response)
    assert not Sender.objects.filter(name="tienda").exists()


def test_it_shows_each_numbers_risk_and_warm_up(staff, memory_sender):
    Sender.objects.create(name="nuevo", backend="memory", daily_cap=30, warmup_started_on=date(2025, 12, 20))

    text = page_text(staff.get(reverse("goteo:sender_list")))

    # The warming number is low risk; the one with no history and no warm-up needs attention.
    assert "Riesgo del número: 🟢 bajo" in text
    assert "Calentamiento: semana 2 de 3, máximo 10 al día hasta el 02/01/2026" in text
    assert "Riesgo del número: 🟡 atención" in text
    assert "número con poco historial (0 enviados) y sin calentamiento" in text


def test_it_marks_a_new_number_for_warm_up(staff, db, clock):
    staff.post(reverse("goteo:sender_new"), cloud_data(warmup_started_on="02/01/2026"))  # day first

    sender = Sender.objects.get(name="tienda")
    assert sender.warmup_started_on == date(2026, 1, 2)
    assert sender.cap_on(date(2026, 1, 5)) == 5  # the first week of the default schedule
    page = staff.get(reverse("goteo:sender_edit", args=[sender.pk])).content.decode()
    assert 'value="02/01/2026"' in page


def test_it_offers_the_time_zones_as_a_list_with_bogota_first(staff, db):
    page = staff.get(reverse("goteo:sender_new")).content.decode()

    zones = re.findall(r'<option value="([^"]*)"', page[page.index('name="time_zone"') :])
    assert zones[:2] == ["", "America/Bogota"]
    assert zones.index("America/Mexico_City") < zones.index("Europe/Madrid") < zones.index("Asia/Tokyo")


def test_it_says_what_the_quality_rating_means(staff, db, clock):
    sender = Sender.objects.create(name="tienda", backend="memory")
    Sender.objects.filter(pk=sender.pk).update(
        health={
            "connected": True,
            "detail": "",
            "extra": {"quality_rating": "YELLOW"},
            "checked_at": clock.now().isoformat(),
            "backend": "memory",
        }
    )

    text = page_text(staff.get(reverse("goteo:sender_list")))

    assert "Calidad\nmedia Varias personas bloquearon o reportaron sus mensajes" in text
