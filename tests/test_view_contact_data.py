"""A contact's birth date, last visit and own data: shown on their page, edited by the owner only."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from goteo.models import Contact
from tests.dashboard import make_user, page_text, sign_in


@pytest.fixture
def ana(db):
    return Contact.objects.create(
        full_name="Ana Ruiz",
        phone="+573001000001",
        consent=True,
        birth_date=date(1985, 2, 14),
        attributes={"producto": "gafas", "tienda": "centro"},
    )


def rows(*pairs: tuple[str, str], delete: tuple[int, ...] = ()) -> dict[str, str]:
    """The attribute rows as the browser posts them."""
    data = {"form-TOTAL_FORMS": str(len(pairs)), "form-INITIAL_FORMS": str(len(pairs))}
    for i, (name, value) in enumerate(pairs):
        data |= {f"form-{i}-name": name, f"form-{i}-value": value}
        if i in delete:
            data[f"form-{i}-DELETE"] = "on"
    return data


def edit(client, contact, data):
    return client.post(reverse("goteo:contact_edit", args=[contact.pk]), data, follow=True)


def test_the_contact_page_shows_the_dates_and_data_and_offers_the_edit(staff, ana):
    text = page_text(staff.get(reverse("goteo:contact_detail", args=[ana.pk])))

    assert "Fecha de nacimiento\n14/02/1985" in text
    assert "Última visita\n—" in text
    assert "producto\ngafas" in text and "tienda\ncentro" in text
    assert "Editar fechas y datos" in text


def test_the_form_shows_the_stored_values(staff, ana):
    response = staff.get(reverse("goteo:contact_edit", args=[ana.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="14/02/1985"' in html
    assert 'value="gafas"' in html and 'value="tienda"' in html
    assert "Otros datos del contacto" in page_text(response)


def test_the_owner_edits_dates_and_replaces_the_data(staff, ana):
    data = {"birth_date": "15/02/1985", "last_visit": "2025-11-03", "action": "save"}
    data |= rows(
        ("producto", "lentes de contacto"), ("tienda", "centro"), ("graduación", "-1.25"), delete=(1,)
    )

    response = edit(staff, ana, data)

    ana.refresh_from_db()
    assert (ana.birth_date, ana.last_visit) == (date(1985, 2, 15), date(2025, 11, 3))
    assert ana.attributes == {"producto": "lentes de contacto", "graduación": "-1.25"}
    assert "Datos de Ana Ruiz guardados." in page_text(response)


def test_emptied_dates_are_cleared_and_empty_rows_dropped(staff, ana):
    edit(staff, ana, {"birth_date": "", "last_visit": "", "action": "save"} | rows(("", ""), ("tienda", "")))

    ana.refresh_from_db()
    assert ana.birth_date is None and ana.attributes == {}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"birth_date": "31/02/1985"}, "Introduzca una fecha válida."),
        ({"last_visit": "03/01/2026"}, "La fecha no puede ser posterior a hoy."),
        (rows(("", "gafas")), "Escriba el nombre del dato, por ejemplo «producto»."),
        (rows(("producto", "a"), ("Producto", "b")), "Hay un dato repetido: Producto."),
        (rows(("producto", "x" * 201)), "Asegúrese de que este valor tenga menos de 200 caracteres"),
    ],
)
def test_bad_input_is_refused_in_spanish_and_stores_nothing(staff, ana, data, error):
    response = edit(staff, ana, {"action": "save", **rows(("producto", "gafas")), **data})

    assert error in page_text(response)
    ana.refresh_from_db()
    assert ana.birth_date == date(1985, 2, 14) and ana.attributes == {"producto": "gafas", "tienda": "centro"}


def test_adding_a_row_keeps_what_was_typed_and_stores_nothing(staff, ana):
    response = edit(staff, ana, {"birth_date": "01/01/1990", "action": "add"} | rows(("producto", "lentes")))

    html = response.content.decode()
    assert 'value="01/01/1990"' in html and 'value="lentes"' in html
    assert 'name="form-1-name"' in html and 'name="form-2-name"' not in html
    ana.refresh_from_db()
    assert ana.birth_date == date(1985, 2, 14)


def test_the_counter_sees_the_data_but_cannot_edit(client, ana):
    sign_in(client, "mostrador", role="Mostrador")

    text = page_text(client.get(reverse("goteo:contact_detail", args=[ana.pk])))
    refused = edit(client, ana, {"birth_date": "01/01/2000", "action": "save"} | rows())

    assert "producto\ngafas" in text and "Editar fechas y datos" not in text
    assert client.get(reverse("goteo:contact_edit", args=[ana.pk])).status_code == 403
    assert refused.status_code == 403
    ana.refresh_from_db()
    assert ana.birth_date == date(1985, 2, 14)


def test_the_admin_shows_the_new_fields(client, ana):
    ana.source_ref = "patients.Patient:42"
    ana.save()
    client.force_login(make_user("root", superuser=True))

    listing = page_text(client.get(reverse("admin:goteo_contact_changelist")))
    page = client.get(reverse("admin:goteo_contact_change", args=[ana.pk])).content.decode()

    assert "Fecha de nacimiento" in listing and "Última visita" in listing
    assert 'name="birth_date"' in page and 'name="last_visit"' in page and 'name="attributes"' in page
    assert "patients.Patient:42" in page and 'name="source_ref"' not in page


def test_data_that_is_not_names_and_values_is_refused_and_never_breaks_the_page(staff, ana):
    from django.core.exceptions import ValidationError

    ana.attributes = ["gafas"]
    with pytest.raises(ValidationError, match="Escriba nombres con sus valores"):
        ana.full_clean()
    ana.save()

    assert staff.get(reverse("goteo:contact_detail", args=[ana.pk])).status_code == 200
    assert staff.get(reverse("goteo:contact_edit", args=[ana.pk])).status_code == 200
