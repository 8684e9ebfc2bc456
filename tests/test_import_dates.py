"""Importing birth dates, last visits and the shop's own columns (attributes)."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from goteo.importing import read_date
from goteo.models import Contact

pytestmark = pytest.mark.django_db


def run(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pacientes.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    call_command("import_contacts", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("born", "visit"),
    [
        ("birth_date", "last_visit"),
        ("fecha_nacimiento", "ultima_visita"),
        ("Fecha de nacimiento", "Última visita"),
    ],
)
def test_it_reads_both_spellings_and_both_formats(tmp_path, born, visit):
    run(
        tmp_path,
        f"nombre,telefono,consentimiento,{born},{visit}\n"
        "Ana Ruiz,3001000001,si,1985-02-14,03/11/2025\n"
        "Beto Gil,3001000002,si,5/3/1990,2024-12-01\n",
    )

    ana, beto = Contact.objects.order_by("full_name")
    assert (ana.birth_date, ana.last_visit) == (date(1985, 2, 14), date(2025, 11, 3))
    assert (beto.birth_date, beto.last_visit) == (date(1990, 3, 5), date(2024, 12, 1))
    assert ana.attributes == {}


@pytest.mark.parametrize("text", ["1985-13-01", "31/02/1990", "14-02-1985", "02/14/85", "ayer", "1985/02/14"])
def test_it_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        read_date(text)


def test_bad_dates_are_reported_by_line_and_column_and_lose_nothing(tmp_path):
    Contact.objects.create(
        full_name="Ana Ruiz", phone="+573001000001", consent=True, birth_date=date(1985, 2, 14)
    )

    out = run(
        tmp_path,
        "nombre;telefono;consentimiento;fecha_nacimiento;ultima_visita\n"
        "Ana Ruiz;3001000001;si;31/02/1985;\n"
        "Beto Gil;3001000002;si;;2024-13-01\n"
        "Caro Paz;3001000003;si;;\n",
    )

    assert (
        "línea 2: fecha de nacimiento (columna D): «31/02/1985» no es una fecha válida; "
        "escríbala como 2024-03-31 o 31/03/2024" in out
    )
    assert "línea 3: última visita (columna E): «2024-13-01» no es una fecha válida" in out
    assert "Filas rechazadas: 2" in out
    assert Contact.objects.get(full_name="Ana Ruiz").birth_date == date(1985, 2, 14)
    assert list(Contact.objects.values_list("full_name", flat=True)) == ["Ana Ruiz", "Caro Paz"]


def test_other_columns_are_kept_as_attributes_and_empty_cells_set_nothing(tmp_path):
    run(
        tmp_path,
        "nombre,telefono,consentimiento, Producto ,graduación,\n"
        "Ana Ruiz,3001000001,si,lentes de contacto,-1.25,sin encabezado\n"
        "Beto Gil,3001000002,si,,,\n",
    )

    ana, beto = Contact.objects.order_by("full_name")
    assert ana.attributes == {"Producto": "lentes de contacto", "graduación": "-1.25"}
    assert beto.attributes == {}


def test_reimporting_updates_dates_and_attributes_but_an_empty_cell_keeps_them(tmp_path):
    header = "nombre,telefono,consentimiento,fecha_nacimiento,ultima_visita,producto,tienda\n"
    run(tmp_path, header + "Ana Ruiz,3001000001,si,1985-02-14,2024-01-10,gafas,centro\n")
    Contact.objects.update(opted_out=True, opt_out_source="inbound")

    out = run(tmp_path, header + "Ana Ruiz,3001000001,si,,2025-06-01,lentes de contacto,\n")

    assert "1 actualizado)." in out
    ana = Contact.objects.get()
    assert (ana.birth_date, ana.last_visit) == (date(1985, 2, 14), date(2025, 6, 1))
    assert ana.attributes == {"producto": "lentes de contacto", "tienda": "centro"}
    assert ana.opted_out


def test_reimporting_without_the_date_columns_keeps_the_dates(tmp_path):
    run(tmp_path, "nombre,telefono,consentimiento,ultima_visita\nAna Ruiz,3001000001,si,2024-01-10\n")
    run(tmp_path, "nombre,telefono,consentimiento\nAna Ruiz,3001000001,no\n")

    ana = Contact.objects.get()
    assert ana.last_visit == date(2024, 1, 10) and not ana.consent


def test_a_repeated_attribute_column_imports_nothing(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="La columna «producto» aparece dos veces"):
        run(tmp_path, "nombre,telefono,consentimiento,Producto,producto\nAna,3001000001,si,a,b\n")
    assert not Contact.objects.exists()


def test_batches_with_and_without_dates_each_keep_theirs(tmp_path, monkeypatch):
    monkeypatch.setattr("goteo.importing.INSERT_BATCH", 1)

    run(
        tmp_path,
        "nombre,telefono,consentimiento,ultima_visita,producto\n"
        "Ana Ruiz,3001000001,si,,\n"
        "Beto Gil,3001000002,no,2024-12-01,\n"
        "Caro Paz,3001000003,si,,gafas\n",
    )

    ana, beto, caro = Contact.objects.order_by("full_name")
    assert (ana.last_visit, ana.attributes, ana.consent_source) == (None, {}, "csv:pacientes.csv")
    assert (beto.last_visit, beto.attributes) == (date(2024, 12, 1), {})
    assert (caro.last_visit, caro.attributes) == (None, {"producto": "gafas"})
