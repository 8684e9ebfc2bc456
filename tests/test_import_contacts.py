"""``goteo import_contacts``: rows reported by line, malformed files import nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from goteo.models import Contact

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, encoding="utf-8") -> Path:
    path = tmp_path / "contactos.csv"
    path.write_bytes(text.encode(encoding))
    return path


def run(path) -> str:
    out = StringIO()
    call_command("import_contacts", str(path), stdout=out)
    return out.getvalue()


def test_it_imports_and_normalizes(tmp_path):
    out = run(
        write(
            tmp_path,
            "name,phone,consent,tags\nDaniel Osorio,300 978 7566,si,vip;gafas\nMaría García,+57 315 123 4567,no,\n",
        )
    )
    assert "Importados 2 contactos (2 nuevos" in out
    daniel = Contact.objects.get(full_name="Daniel Osorio")
    assert daniel.phone == "+573009787566" and daniel.consent
    assert sorted(daniel.tags.values_list("name", flat=True)) == ["gafas", "vip"]
    assert not Contact.objects.get(full_name="María García").consent


def test_it_reports_bad_rows_with_line_and_field(tmp_path):
    out = run(
        write(
            tmp_path,
            "name,phone,consent\nAna,3001000001,si\n,3001000002,si\nBeto,12,si\nCaro,3001000003,quizas\nAna,300 100 0001,si\n",
        )
    )
    assert "línea 3: nombre: está vacío" in out
    assert "línea 4: teléfono: '12' no es un número válido" in out
    assert "línea 5: consentimiento: valor 'quizas'" in out
    assert "Filas rechazadas: 3" in out
    assert "tomadas una vez: línea 6 (igual a la 2)" in out
    assert "phone:" not in out and "name:" not in out and "consent:" not in out
    assert Contact.objects.count() == 1


def test_a_malformed_file_imports_nothing(tmp_path):
    Contact.objects.create(full_name="Ya Estaba", phone="+573001000009", consent=True)
    with pytest.raises(CommandError, match="Faltan columnas obligatorias: consentimiento"):
        run(write(tmp_path, "name,phone\nAna,3001000001\n"))
    with pytest.raises(CommandError, match="No se importó nada"):
        run(write(tmp_path, 'name,phone,consent\nAna,"3001000001,si\nBeto,3001000002,si\n'))
    assert list(Contact.objects.values_list("full_name", flat=True)) == ["Ya Estaba"]


def test_it_reads_excel_style_files(tmp_path):
    out = run(write(tmp_path, "Nombre;Teléfono;Consentimiento\nJosé Núñez;3001000001;Sí\n", "cp1252"))
    assert "Importado 1" in out
    assert Contact.objects.get().full_name == "José Núñez"


def test_reimporting_updates_and_keeps_opt_outs(tmp_path):
    path = write(tmp_path, "name,phone,consent\nAna Ruiz,3001000001,si\n")
    run(path)
    Contact.objects.update(opted_out=True, opt_out_source="inbound")
    out = run(path)
    assert "1 actualizado)." in out
    ana = Contact.objects.get()
    assert ana.opted_out and ana.opt_out_source == "inbound"


def test_it_refuses_a_missing_or_binary_file(tmp_path):
    with pytest.raises(CommandError, match="No existe"):
        run(tmp_path / "nada.csv")
    binary = tmp_path / "libro.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00")
    with pytest.raises(CommandError):
        run(binary)


def test_it_records_consent_and_tags_new_and_known_contacts_once(tmp_path):
    run(write(tmp_path, "name,phone,consent,tags\nAna Ruiz,3001000001,si,vip\nBeto Paz,3001000002,no,\n"))
    ana, beto = Contact.objects.order_by("id")
    assert ana.consent_at is not None and ana.consent_source == "csv:contactos.csv" and not ana.opted_out
    assert beto.consent_at is None and beto.consent_source == "" and beto.created_at is not None
    # Again, with a new tag for Ana and a first one for Beto: links added, none twice.
    run(
        write(
            tmp_path,
            "name,phone,consent,tags\nAna Ruiz,3001000001,si,vip;gafas\nBeto Paz,3001000002,si,gafas\n",
        )
    )
    assert Contact.objects.count() == 2
    assert sorted(ana.tags.values_list("name", flat=True)) == ["gafas", "vip"]
    assert list(beto.tags.values_list("name", flat=True)) == ["gafas"]
    beto.refresh_from_db()
    assert beto.consent and beto.consent_source == "csv:contactos.csv"
