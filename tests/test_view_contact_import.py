"""Importing contacts from the dashboard: upload, preview with the column mapping, confirm or
cancel, the report with Spanish reasons; and the template file."""

from __future__ import annotations

import os
import time
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from goteo.models import Contact
from goteo.web.contact_import import KEEP_SECONDS
from tests.dashboard import page_text, sign_in

FILE = (
    "Nombres;Apellidos;Celular;Acepta;Correo\n"
    "Daniel;Osorio;300 978 7566;si;d@example.com\n"
    "Sin;Teléfono;;si;\n"
    "María;García;3101234567;quizas;\n"
    "Óptica;Centro;(604) 444 5555;si;\n"
    "Laura;Silva;320 987 6543;no;\n"
    "Luisa;Osorio;300 978 7566;si;\n"
).encode()


@pytest.fixture
def staff(staff, settings, tmp_path):
    """The signed-in client; uploads land in this test's own folder."""
    settings.DATA_DIR = tmp_path
    return staff


def upload(staff, content: bytes, name="clientes.csv"):
    return staff.post(
        reverse("goteo:contact_import"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def waiting_files(settings) -> list[str]:
    folder = settings.DATA_DIR / "imports"
    return sorted(os.listdir(folder)) if folder.exists() else []


def confirm(staff, action="import"):
    return staff.post(reverse("goteo:contact_import_confirm"), {"action": action}, follow=True)


def test_it_previews_the_mapping_first_rows_and_problems_before_storing_anything(staff, settings):
    text = page_text(upload(staff, FILE))

    assert not Contact.objects.exists()
    assert len(waiting_files(settings)) == 1
    assert "Revise antes de importar" in text
    assert "Filas que se importarán: 4" in text and "Filas rechazadas: 2" in text and "Avisos: 2" in text
    assert "Nombre\nNombres (columna A) + Apellidos (columna B)" in text
    assert "Teléfono\nCelular (columna C)" in text
    assert "Consentimiento\nAcepta (columna D)" in text
    assert "Datos propios\nCorreo (columna E)" in text
    # The first five rows, as read, with what will happen to each.
    assert "2\nDaniel Osorio\n300 978 7566\nsí\n✅ se importa" in text
    assert "3\nSin Teléfono\nsi\n❌ teléfono: está vacío" in text
    assert "4\nMaría García\n3101234567\nquizas\n❌ consentimiento: valor 'quizas' no reconocido" in text
    assert "5\nÓptica Centro\n(604) 444 5555\nsí\n⚠️ teléfono: (604) 444 5555 es un teléfono fijo" in text
    assert (
        "6\nLaura Silva\n320 987 6543\nno\n✅ se importa\nImportar 4 contactos" in text
    )  # five rows, no more
    assert "7\nteléfono: el mismo número que la línea 2 (Daniel Osorio) con otro nombre" in text
    assert "Importar 4 contactos" in text


def test_it_imports_the_previewed_file_on_confirmation_and_forgets_it(staff, settings):
    upload(staff, FILE)

    text = page_text(confirm(staff))

    assert "✅ Nuevos: 4" in text and "❌ Filas rechazadas: 2" in text and "⚠️ Avisos: 2" in text
    assert "3\nteléfono: está vacío" in text
    assert "4\nconsentimiento: valor 'quizas' no reconocido (use si/no)" in text
    assert "5\nteléfono: (604) 444 5555 es un teléfono fijo" in text
    assert "7\nteléfono: el mismo número que la línea 2 (Daniel Osorio)" in text
    for english in ("phone:", "consent:", "name:"):
        assert english not in text
    daniel = Contact.objects.get(full_name="Daniel Osorio")
    assert daniel.consent_source == "panel:clientes.csv"
    assert Contact.objects.get(full_name="Óptica Centro").landline
    assert waiting_files(settings) == []
    # A second confirmation has no file left to import twice.
    again = confirm(staff)
    assert "ya no está; súbalo de nuevo" in page_text(again)
    assert Contact.objects.count() == 4


def test_cancelling_stores_nothing_and_deletes_the_file(staff, settings):
    upload(staff, FILE)

    text = page_text(confirm(staff, "cancel"))

    assert "Importación cancelada: no se guardó nada." in text
    assert not Contact.objects.exists()
    assert waiting_files(settings) == []


def test_a_new_upload_replaces_the_waiting_one_and_old_ones_are_cleaned(staff, settings):
    upload(staff, FILE)
    folder = settings.DATA_DIR / "imports"
    abandoned = folder / "abandonado.csv"
    abandoned.write_bytes(b"x")
    day_old = time.time() - KEEP_SECONDS - 60
    os.utime(abandoned, (day_old, day_old))

    upload(staff, b"nombre,telefono,consentimiento\nAna Ruiz,3001000001,si\n")

    assert len(waiting_files(settings)) == 1 and not abandoned.exists()
    confirm(staff)
    assert list(Contact.objects.values_list("full_name", flat=True)) == ["Ana Ruiz"]


def test_it_explains_a_file_it_cannot_read_without_keeping_it(staff, settings):
    text = page_text(upload(staff, b"name,phone,phone,consent\nAna,1,2,si\n"))

    assert "La columna «phone» aparece dos veces (columnas B y C)" in text
    assert waiting_files(settings) == []
    assert not Contact.objects.exists()


def test_it_updates_on_a_second_import(staff, db):
    content = b"name,phone,consent\nDaniel Osorio,3009787566,yes\n"
    upload(staff, content)
    confirm(staff)
    upload(staff, content)

    text = page_text(confirm(staff))

    assert "🔄 Actualizados: 1" in text
    assert Contact.objects.count() == 1


def test_it_asks_for_a_file(staff, db):
    response = staff.post(reverse("goteo:contact_import"), {})

    assert response.status_code == 200
    assert "Este campo es obligatorio." in page_text(response)


def test_it_offers_a_template_that_imports_as_it_is(staff, settings):
    page = page_text(staff.get(reverse("goteo:contact_import")))
    response = staff.get(reverse("goteo:contact_import_template"))

    assert "Descargar plantilla de contactos" in page
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="plantilla-contactos.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith(
        "\ufeffnombre;telefono;consentimiento;etiquetas;fecha_nacimiento;ultima_visita;producto\r\n"
    )
    assert len(text.splitlines()) == 3
    preview = page_text(upload(staff, response.content, "plantilla-contactos.csv"))
    assert "Fecha de nacimiento\nfecha_nacimiento (columna E)" in preview
    assert "Última visita\nultima_visita (columna F)" in preview
    assert "Datos propios\nproducto (columna G)" in preview
    assert "✅ Nuevos: 2" in page_text(confirm(staff))
    assert Contact.objects.get(full_name="María García").phone == "+573101234567"
    daniel = Contact.objects.get(full_name="Daniel Osorio")
    assert (daniel.birth_date, daniel.last_visit) == (date(1985, 2, 14), date(2025, 11, 3))
    assert daniel.attributes == {"producto": "lentes de contacto"}


def test_only_staff_import(client, db):
    sign_in(client, "visita", staff=False)

    assert client.get(reverse("goteo:contact_import_template")).status_code == 403
    assert client.post(reverse("goteo:contact_import_confirm"), {"action": "import"}).status_code == 403
