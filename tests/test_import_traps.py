"""``goteo import_contacts`` and the files a shop really has: landlines, repeated phones,
split names, repeated headers, binary bytes and one monstrous cell."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from goteo.csv_files import ImportFileError, read_text
from goteo.models import Contact

pytestmark = pytest.mark.django_db


def run(tmp_path: Path, data: str | bytes) -> str:
    path = tmp_path / "contactos.csv"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    out = StringIO()
    call_command("import_contacts", str(path), stdout=out)
    return out.getvalue()


def test_it_warns_of_a_landline_with_its_line_and_still_stores_it(tmp_path):
    out = run(
        tmp_path,
        "nombre,telefono,consentimiento\nAna Ruiz,300 978 7566,si\nÓptica Centro,(604) 444 5555,si\n",
    )

    assert "Importados 2 contactos" in out
    assert "línea 3: teléfono: (604) 444 5555 es un teléfono fijo" in out
    fixed = Contact.objects.get(full_name="Óptica Centro")
    assert fixed.phone == "+576044445555" and fixed.landline
    assert not Contact.objects.get(full_name="Ana Ruiz").landline


def test_it_does_not_warn_of_landlines_the_shop_allowed(tmp_path, settings):
    settings.GOTEO_ALLOW_LANDLINES = True

    out = run(tmp_path, "nombre,telefono,consentimiento\nÓptica Centro,(604) 444 5555,si\n")

    assert "fijo" not in out
    assert Contact.objects.get().landline  # still known, should the setting change


def test_it_warns_of_one_phone_under_two_names_with_both_lines(tmp_path):
    out = run(
        tmp_path,
        "nombre,telefono,consentimiento\nAna Ruiz,3001000001,si\nBeto Paz,3001000002,si\nLuisa Ruiz,300 100 0001,si\n",
    )

    assert "línea 4: teléfono: el mismo número que la línea 2 (Ana Ruiz) con otro nombre" in out
    assert Contact.objects.filter(phone="+573001000001").count() == 2


def test_it_takes_a_row_repeated_exactly_once_and_says_so_quietly(tmp_path):
    out = run(tmp_path, "nombre,telefono,consentimiento\nAna Ruiz,3001000001,si\nana ruiz,300 100 0001,si\n")

    assert "Filas rechazadas" not in out and "Avisos" not in out
    assert "tomadas una vez: línea 3 (igual a la 2)" in out
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    "header",
    [
        "Nombres;Apellidos;Celular;Acepta",
        "first_name;last_name;phone;consent",
        "nombre;apellido;telefono;consentimiento",
    ],
)
def test_it_joins_given_names_and_surnames(tmp_path, header):
    out = run(tmp_path, f"{header}\nJosé Daniel;Osorio Núñez;3009787566;si\n")

    assert "Importado 1 contacto" in out
    assert Contact.objects.get().full_name == "José Daniel Osorio Núñez"


def test_it_joins_two_surname_columns_but_never_a_full_name(tmp_path):
    run(
        tmp_path,
        "Nombre;Primer apellido;Segundo apellido;Teléfono;Consentimiento\nAna;Ruiz;Gómez;3001000001;si\n",
    )
    assert Contact.objects.get().full_name == "Ana Ruiz Gómez"
    Contact.objects.all().delete()

    run(
        tmp_path,
        "Nombre completo;Apellidos;Teléfono;Consentimiento\nAna Ruiz Gómez;Ruiz Gómez;3001000001;si\n",
    )
    assert Contact.objects.get().full_name == "Ana Ruiz Gómez"


def test_it_prefers_the_mobile_column_to_a_plain_phone(tmp_path):
    run(tmp_path, "nombre;telefono;celular;consentimiento\nAna Ruiz;(604) 444 5555;300 978 7566;si\n")

    assert Contact.objects.get().phone == "+573009787566"


def test_it_refuses_a_repeated_header_naming_it(tmp_path):
    with pytest.raises(CommandError, match=r"La columna «phone» aparece dos veces \(columnas B y C\)"):
        run(tmp_path, "name,phone,phone,consent\nAna Ruiz,3001000001,3001000002,si\n")
    assert not Contact.objects.exists()


def test_it_names_missing_columns_in_spanish(tmp_path):
    with pytest.raises(CommandError, match="Faltan columnas obligatorias: teléfono, consentimiento"):
        run(tmp_path, "name,email\nAna,a@b.co\n")


def test_it_says_what_a_file_with_nul_bytes_is(tmp_path):
    data = b"nombre,telefono,consentimiento\nAna Ruiz,3001000001,si\nBeto\x00\x00,3001000002,si\n"

    with pytest.raises(CommandError) as caught:
        run(tmp_path, data)

    message = str(caught.value)
    assert "caracteres nulos (bytes en cero) desde la línea 3" in message
    assert "xlsx" not in message
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", r"libro de Excel \(\.xlsx\)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", r"\(\.xls\)"),
    ],
)
def test_it_still_recognizes_excel_books(data, what):
    with pytest.raises(ImportFileError, match=what):
        read_text(data)


def test_it_reads_excel_unicode_text(tmp_path):
    # Excel's «Texto Unicode (*.txt)»: UTF-16 little-endian with its byte-order mark, tabs between cells.
    data = "nombre\ttelefono\tconsentimiento\r\nJosé Núñez\t3001000001\tsí\r\n".encode("utf-16")

    assert "Importado 1 contacto" in run(tmp_path, data)
    assert Contact.objects.get().full_name == "José Núñez"


def test_one_monstrous_cell_costs_only_its_row(tmp_path):
    # Over csv's own limit of 131,072 characters, which used to refuse the whole file.
    huge = "x" * 200_000
    out = run(
        tmp_path,
        f"nombre,telefono,consentimiento,notas\nAna Ruiz,3001000001,si,\nBeto Paz,3001000002,si,{huge}\n"
        "Caro Gil,3001000003,si,\n",
    )

    assert "Importados 2 contactos" in out
    assert "línea 3: columna D (notas): tiene 200.000 caracteres" in out
    assert sorted(Contact.objects.values_list("full_name", flat=True)) == ["Ana Ruiz", "Caro Gil"]


def test_a_name_longer_than_a_contact_keeps_is_rejected_with_its_line(tmp_path):
    out = run(
        tmp_path, f"nombre,telefono,consentimiento\n{'Ana ' * 60},3001000001,si\nBeto Paz,3001000002,si\n"
    )

    assert "línea 2: nombre: tiene 239 caracteres; el máximo es 200" in out
    assert list(Contact.objects.values_list("full_name", flat=True)) == ["Beto Paz"]


def test_reasons_name_the_fields_in_spanish(tmp_path):
    out = run(
        tmp_path,
        "name,phone,consent,tags\n,3001000001,si,\nAna,,si,\nBeto,3001000002,quizas,\nCaro,3001000003,si,"
        + "t" * 70
        + "\n",
    )

    assert "línea 2: nombre: está vacío" in out
    assert "línea 3: teléfono: está vacío" in out
    assert "línea 4: consentimiento: valor 'quizas' no reconocido" in out
    assert "línea 5: etiquetas: «" in out
    for english in ("name:", "phone:", "consent:", "tags:"):
        assert english not in out
