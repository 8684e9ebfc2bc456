"""Exclusion lists (e.g. Colombia's RNE): imports, malformed files, and every campaign skipping them."""

from datetime import date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from goteo.exclusions import import_exclusions, remove_exclusions
from goteo.importing import ImportFileError, import_contacts
from goteo.launch import campaign_launch, preview_recipients
from goteo.models import Campaign, Contact, ExcludedPhone, Message, MessageStatus, Promotion, SkipReason
from goteo.sending import Engine
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 1, 2, 10, tzinfo=BOGOTA)


def listed(list_name=None):
    entries = ExcludedPhone.objects.all()
    if list_name:
        entries = entries.filter(list_name=list_name)
    return sorted(entries.values_list("phone", flat=True))


# --- reading files ---------------------------------------------------------------------
def test_it_imports_a_semicolon_file_with_headers_from_excel():
    data = "Teléfono;Motivo\r\n300 111 2233;pidió no recibir\r\n+57 300 444 5566;\r\n".encode("cp1252")
    report = import_exclusions(data, NOW, list_name="rne", source_name="csv:rne.csv")
    assert (report.added, report.already, report.rejected) == (2, 0, [])
    assert listed("rne") == ["+573001112233", "+573004445566"]
    entry = ExcludedPhone.objects.get(phone="+573001112233")
    assert (entry.note, entry.source, entry.added_at) == ("pidió no recibir", "csv:rne.csv", NOW)


def test_it_imports_bare_numbers_one_per_line():
    report = import_exclusions(b"3001112233\n573004445566\n\n3001112233\n", NOW)
    assert (report.added, report.repeated) == (2, 1)
    assert listed("general") == ["+573001112233", "+573004445566"]


def test_it_reports_bad_rows_with_their_line_and_imports_the_rest():
    data = b"phone\n3001112233\nabc\n\n12\n3004445566\n"
    report = import_exclusions(data, NOW)
    assert report.added == 2
    assert report.rejected == [
        (3, "teléfono: 'abc' no se entiende como número"),
        (5, "teléfono: '12' no es un número válido"),
    ]


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "vacío"),
        (
            b"nombre,correo\nAna,a@b.co\n",
            "Falta la columna de teléfonos. Encabezados encontrados: nombre, correo",
        ),
        (b'phone,note\n3001112233,"sin cerrar\n3004445566,x\n', "CSV mal formado en la línea"),
        (b"PK\x03\x04\x00\x00binario", r"libro de Excel \(\.xlsx\)"),
        (b"\x81\x8d\x8f", "No se pudo leer el archivo"),
    ],
)
def test_it_imports_nothing_from_a_malformed_file(data, message):
    with pytest.raises(ImportFileError, match=message):
        import_exclusions(data, NOW)
    assert ExcludedPhone.objects.count() == 0


def test_it_keeps_each_list_apart_and_replaces_one_on_request():
    import_exclusions(b"3001112233\n3004445566\n", NOW, list_name="rne")
    import_exclusions(b"3001112233\n", NOW, list_name="propia")
    report = import_exclusions(b"3004445566\n3007778899\n", NOW, list_name="rne", replace=True)
    assert (report.added, report.already, report.removed) == (1, 1, 1)
    assert listed("rne") == ["+573004445566", "+573007778899"]
    assert listed("propia") == ["+573001112233"]


# --- campaigns present and future ------------------------------------------------------
def test_it_skips_excluded_numbers_at_launch_with_the_reason(make_campaign):
    campaign = make_campaign(5, launch=False)
    phones = sorted(Contact.objects.values_list("phone", flat=True))
    import_exclusions("\n".join(phones[:2]).encode(), NOW, list_name="rne")
    sendable, _first = preview_recipients(campaign, 10)
    assert sendable == 3
    result = campaign_launch(campaign, NOW)
    assert (result.pending, result.skipped) == (3, {SkipReason.EXCLUDED: 2})
    skipped = campaign.messages.filter(status=MessageStatus.SKIPPED)
    assert sorted(skipped.values_list("phone", flat=True)) == phones[:2]
    assert set(skipped.values_list("skip_reason", flat=True)) == {SkipReason.EXCLUDED}


def test_it_skips_pending_messages_of_running_campaigns_on_import(make_campaign, clock):
    running = make_campaign(4)
    other = make_campaign(0)  # the same four people in a second campaign
    phone = running.messages.order_by("id").values_list("phone", flat=True)[0]
    report = import_exclusions(phone.encode(), NOW)
    assert report.skipped_messages == 2
    for campaign in (running, other):
        campaign.refresh_from_db()
        assert (campaign.pending_count, campaign.skipped_count) == (3, 1)
        assert campaign.recount()["skipped"] == 1  # the counters stayed exact
    Engine(clock, max_wait=3600).run([running.pk])
    assert phone not in [m.to for m in MemoryTransport.outbox]
    assert len(MemoryTransport.outbox) == 3


def test_it_includes_a_number_again_after_it_is_removed(make_campaign):
    import_exclusions(b"3001112233\n", NOW)
    Contact.objects.create(full_name="Ana Ruiz", phone="+573001112233", consent=True)
    first = make_campaign(0)
    assert first.messages.get().skip_reason == SkipReason.EXCLUDED
    assert remove_exclusions(["300 111 2233"]) == 1
    second = make_campaign(0)
    assert second.messages.get().status == MessageStatus.PENDING
    assert first.messages.get().status == MessageStatus.SKIPPED  # what was skipped stays skipped


def test_it_keeps_exclusions_and_opt_outs_when_contacts_are_imported_again(memory_sender):
    csv = "name,phone,consent\nAna Ruiz,3001112233,si\nLuis Díaz,3004445566,si\n".encode()
    import_contacts(csv, NOW)
    import_exclusions(b"3004445566\n", NOW, list_name="rne")
    ana = Contact.objects.get(phone="+573001112233")
    ana.opt_out("whatsapp:BAJA", NOW)
    import_contacts(csv, datetime(2026, 2, 1, tzinfo=BOGOTA))
    ana.refresh_from_db()
    assert (ana.opted_out, ana.opted_out_at, ana.opt_out_source) == (True, NOW, "whatsapp:BAJA")
    assert listed("rne") == ["+573004445566"]
    promotion = Promotion.objects.create(code="P", name="P", benefit="b", valid_until=date(2026, 2, 28))
    campaign = Campaign.objects.create(name="c", promotion=promotion, sender=memory_sender, template="Hola")
    campaign_launch(campaign, NOW)
    reasons = dict(campaign.messages.values_list("phone", "skip_reason"))
    assert reasons == {"+573001112233": SkipReason.OPTED_OUT, "+573004445566": SkipReason.EXCLUDED}


# --- commands ---------------------------------------------------------------------------
def call(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_imports_from_the_command_and_reports_in_spanish(tmp_path):
    path = tmp_path / "rne.csv"
    path.write_text("celular\n3001112233\n3001112233\nxyz\n", encoding="utf-8")
    out = call("import_exclusions", str(path), "--list", "rne")
    assert "Lista «rne»: 1 número nuevo, 0 ya estaban, 1 repetido en el archivo." in out
    assert "línea 4: teléfono: 'xyz' no se entiende como número" in out
    assert ExcludedPhone.objects.get().source == "csv:rne.csv"


def test_it_refuses_a_malformed_file_from_the_command(tmp_path):
    path = tmp_path / "mal.csv"
    path.write_bytes(b"nombre\nAna\n")
    with pytest.raises(CommandError, match=r"mal\.csv: Falta la columna de teléfonos.*No se importó nada"):
        call("import_exclusions", str(path))


def test_it_lists_checks_and_removes_from_the_command():
    import_exclusions(b"3001112233\n3004445566\n", NOW, list_name="rne", source_name="csv:rne.csv")
    assert "«rne»: 2 números" in call("exclusions")
    assert call("exclusions", "--show") == "+573001112233\trne\n+573004445566\trne\n"
    assert "excluido en «rne» desde 02/01/2026 (csv:rne.csv)" in call("exclusions", "--check", "3001112233")
    assert "1 registro quitado." in call("exclusions", "--remove", "3001112233")
    assert "no está en ninguna lista" in call("exclusions", "--check", "3001112233")
    assert "Lista «rne» borrada (1 número)" in call("exclusions", "--remove-list", "rne")
    assert "No hay listas de exclusión" in call("exclusions")
    with pytest.raises(CommandError, match="No existe la lista «otra»"):
        call("exclusions", "--remove-list", "otra")


def test_it_never_sends_to_an_excluded_number_added_between_runs(make_campaign, clock):
    campaign = make_campaign(3, daily_limit=1)
    Engine(clock, max_wait=3600).run()
    pending = list(campaign.messages.filter(status="pending").values_list("phone", flat=True))
    import_exclusions("\n".join(pending).encode(), clock.now())
    clock.set(datetime(2026, 1, 5, 10, tzinfo=BOGOTA))
    Engine(clock, max_wait=3600).run()
    campaign.refresh_from_db()
    assert len(MemoryTransport.outbox) == 1
    assert (campaign.status, campaign.skipped_count) == ("completed", 2)
    assert Message.objects.filter(skip_reason=SkipReason.EXCLUDED).count() == 2
