"""A Django host project keeps its patients in sync: the setting, ``goteo sync_contacts`` and the
receivers, against the tiny host app in tests/hostapp (installed for these tests only)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from goteo import contact_sync
from goteo.checks import check_contact_source
from goteo.contact_source import load_source, problems_in
from goteo.models import Contact, MessageStatus, SkipReason

BOGOTA = ZoneInfo("America/Bogota")
SOURCE = {
    "model": "patients.Patient",
    "name": ["first_name", "last_name"],
    "phone": "phone_number",
    "consent": "accepts_marketing",
    "birth_date": "birth_date",
    "last_visit": "last_exam_date",
    "attributes": {"producto": "product"},
}


@pytest.fixture(scope="module")
def host_app(django_db_setup, django_db_blocker):
    """The host app installed and its table migrated, once for this file; removed after it.

    goteo.settings never lists it: the rest of the suite runs without it.
    """
    installed = override_settings(INSTALLED_APPS=[*django_settings.INSTALLED_APPS, "tests.hostapp"])
    installed.enable()
    with django_db_blocker.unblock():
        call_command("migrate", "patients", verbosity=0)
    yield
    with django_db_blocker.unblock():
        call_command("migrate", "patients", "zero", verbosity=0)
    installed.disable()


@pytest.fixture
def host(host_app, transactional_db, settings):
    """The setting naming the host's Patient, and the receivers on (as goteo.apps does)."""
    from tests.hostapp.models import Patient

    settings.GOTEO_CONTACT_SOURCE = SOURCE
    assert contact_sync.connect()
    yield Patient
    contact_sync.disconnect(Patient)


def sync(*args: str) -> str:
    out = StringIO()
    call_command("sync_contacts", *args, stdout=out)
    return out.getvalue()


def quietly(Patient, **fields):
    """A patient written without the receivers, as if it existed before goteo was installed."""
    contact_sync.disconnect(Patient)
    try:
        return Patient.objects.create(**fields)
    finally:
        contact_sync.connect()


def test_it_creates_contacts_from_the_patients(host):
    exam = datetime(2025, 3, 1, 2, 30, tzinfo=ZoneInfo("UTC"))  # 28 February in Bogotá
    ana = quietly(
        host,
        first_name="Ana",
        last_name="Ruiz",
        phone_number="300 100 0001",
        accepts_marketing=True,
        birth_date=date(1985, 2, 14),
        last_exam_date=exam,
        product="lentes de contacto",
    )
    quietly(host, first_name="Beto", phone_number="3001000002")
    quietly(host, first_name="Caro", phone_number="12")

    out = sync()

    assert "Sincronizado: 3 filas del sistema de la tienda (patients.Patient)." in out
    assert "2 contactos nuevos, 0 actualizados, 0 sin cambios, 1 teléfono ilegible." in out
    assert f"patients.Patient:{ana.pk + 2}: teléfono: '12' no es un número válido" in out
    contact = Contact.objects.get(source_ref=f"patients.Patient:{ana.pk}")
    assert contact.full_name == "Ana Ruiz" and contact.phone == "+573001000001"
    assert contact.consent and contact.consent_source == "sistema de la tienda" and contact.consent_at
    assert (contact.birth_date, contact.last_visit) == (date(1985, 2, 14), date(2025, 2, 28))
    assert contact.attributes == {"producto": "lentes de contacto"}
    beto = Contact.objects.get(full_name="Beto")
    assert not beto.consent and beto.consent_source == "" and beto.attributes == {}
    assert "sin cambios" in sync() and Contact.objects.count() == 2
    assert "0 contactos nuevos, 0 actualizados, 2 sin cambios" in sync()


def test_it_links_a_contact_already_there_by_phone_and_keeps_its_own_data(host):
    imported = Contact.objects.create(
        full_name="Ana Ruiz", phone="+573001000001", consent=False, attributes={"tienda": "centro"}
    )
    quietly(host, first_name="Ana", last_name="Ruiz", phone_number="+57 300 100 0001", product="gafas")

    out = sync()

    assert "0 contactos nuevos, 1 actualizado" in out
    imported.refresh_from_db()
    assert imported.source_ref.startswith("patients.Patient:")
    assert imported.attributes == {"tienda": "centro", "producto": "gafas"}


def test_it_follows_a_patient_by_reference_when_the_phone_changes(host):
    ana = quietly(host, first_name="Ana", phone_number="3001000001")
    sync()
    host.objects.filter(pk=ana.pk).update(phone_number="3109998877", product="")

    sync()

    contact = Contact.objects.get()
    assert contact.phone == "+573109998877" and contact.source_ref == f"patients.Patient:{ana.pk}"


def test_it_never_undoes_an_opt_out(host):
    Contact.objects.create(
        full_name="Ana", phone="+573001000001", consent=False, opted_out=True, opt_out_source="inbound"
    )
    quietly(host, first_name="Ana", phone_number="3001000001", accepts_marketing=True)

    sync()

    contact = Contact.objects.get()
    assert contact.opted_out and contact.opt_out_source == "inbound" and not contact.consent


def test_consent_withdrawn_in_the_host_is_withdrawn_here_with_what_was_pending(host, make_campaign):
    campaign = make_campaign(1)
    contact = Contact.objects.get()
    quietly(host, first_name=contact.full_name, phone_number=contact.phone, accepts_marketing=False)

    out = sync()

    contact.refresh_from_db()
    assert not contact.consent
    message = campaign.messages.get()
    assert message.status == MessageStatus.SKIPPED and message.skip_reason == SkipReason.NO_CONSENT
    assert "1 persona retiró su consentimiento" in out


def test_a_dry_run_counts_and_stores_nothing(host):
    quietly(host, first_name="Ana", phone_number="3001000001", accepts_marketing=True)

    out = sync("--dry-run")

    assert out.startswith(
        "Simulación, no se guardó nada: 1 fila del sistema de la tienda (patients.Patient). 1 contacto nuevo"
    )
    assert not Contact.objects.exists()


def test_it_reads_the_patients_in_chunks(host, monkeypatch):
    for i in range(5):
        quietly(host, first_name=f"P{i}", phone_number=f"300100000{i}")
    source = load_source()
    assert source is not None

    sizes = [len(batch) for batch in contact_sync.host_rows(source, chunk=2)]
    monkeypatch.setattr(contact_sync, "CHUNK", 2)
    out = sync()

    assert sizes == [2, 2, 1]
    assert "5 contactos nuevos" in out and Contact.objects.count() == 5


def test_saving_a_patient_keeps_its_contact_in_step(host):
    ana = host.objects.create(first_name="Ana", phone_number="3001000001", accepts_marketing=True)
    assert Contact.objects.get().consent

    ana.last_exam_date = datetime(2026, 1, 2, 10, tzinfo=BOGOTA)
    ana.save()

    contact = Contact.objects.get()
    assert contact.last_visit == date(2026, 1, 2) and contact.source_ref == f"patients.Patient:{ana.pk}"


def test_deleting_a_patient_keeps_the_contact_unlinked(host):
    ana = host.objects.create(first_name="Ana", phone_number="3001000001")

    ana.delete()

    contact = Contact.objects.get()
    assert contact.full_name == "Ana" and contact.source_ref == ""


def test_a_failing_receiver_never_breaks_the_hosts_save(host, monkeypatch, caplog):
    def broken(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(contact_sync, "sync_one", broken)

    with caplog.at_level(logging.ERROR, logger="goteo"), transaction.atomic():
        ana = host.objects.create(first_name="Ana", phone_number="+573009787566")
        # The host's own transaction is still usable after the receiver's error.
        assert host.objects.filter(pk=ana.pk).exists()

    assert host.objects.count() == 1 and not Contact.objects.exists()
    (record,) = [r for r in caplog.records if r.name == "goteo.contact_source"]
    assert (
        record.getMessage()
        == f"could not sync the contact of patients.Patient:{ana.pk} (phone +57300****566)"
    )
    assert "9787566" not in caplog.text


def test_the_receiver_is_connected_only_when_the_setting_names_a_model(host, settings):
    contact_sync.disconnect(host)
    settings.GOTEO_CONTACT_SOURCE = None
    assert not contact_sync.connect()
    host.objects.create(first_name="Ana", phone_number="3001000001")
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"tags": "x"}, "GOTEO_CONTACT_SOURCE: la clave «tags» no se conoce"),
        ({"phone": "telefono"}, "«phone» nombra el campo «telefono», que patients.Patient no tiene."),
        ({"attributes": {"producto": "nope"}}, "«attributes.producto» nombra el campo «nope»"),
        ({"model": "patients.Paciente"}, "«model» es 'patients.Paciente'; no hay un modelo instalado"),
        ({"name": None}, "«name» debe ser el nombre de un campo, no None."),
    ],
)
def test_a_wrong_setting_is_named_at_startup_and_by_the_command(host, settings, change, problem):
    settings.GOTEO_CONTACT_SOURCE = SOURCE | change

    errors = check_contact_source()

    assert [e.id for e in errors] == ["goteo.E002"] and problem in errors[0].msg
    with pytest.raises(CommandError, match=re.escape(problem)):
        sync()


def test_a_good_setting_passes_the_check(host):
    assert check_contact_source() == []
    assert problems_in({"model": "patients.Patient", "name": "full_name", "phone": "phone_number"}) == []


def test_the_command_says_when_nothing_is_configured(settings, db):
    settings.GOTEO_CONTACT_SOURCE = None

    with pytest.raises(CommandError, match="GOTEO_CONTACT_SOURCE no está configurado"):
        sync()
    assert problems_in("patients.Patient") == [
        "GOTEO_CONTACT_SOURCE debe ser un diccionario, como {'model': 'patients.Patient', ...}."
    ]


def test_goteo_connects_the_receivers_at_start_up_when_the_setting_names_a_model(host):
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    contact_sync.disconnect(host)
    assert not post_save.has_listeners(host)

    apps.get_app_config("goteo").ready()

    assert post_save.has_listeners(host) and post_delete.has_listeners(host)


def test_a_saved_patient_with_an_unreadable_phone_is_logged_masked_and_left_out(host, caplog):
    with caplog.at_level(logging.WARNING, logger="goteo"):
        ana = host.objects.create(first_name="Ana", phone_number="300 12")

    assert not Contact.objects.exists()
    (record,) = [r for r in caplog.records if r.name == "goteo.contact_source"]
    assert record.getMessage() == f"contact for patients.Patient:{ana.pk} not synced: unreadable phone ******"


def test_one_patient_never_gets_two_contacts_even_when_a_save_races_the_sync(host, monkeypatch):
    ana = quietly(host, first_name="Ana", phone_number="3001000001")
    ref = f"patients.Patient:{ana.pk}"
    real_claim = contact_sync.claim

    def saved_meanwhile(candidates, name):
        # The shop saves Ana after the sync looked her up and before it writes: her receiver links her.
        if not Contact.objects.filter(source_ref=ref).exists():
            Contact.objects.create(full_name="Ana", phone="+573001000001", source_ref=ref)
        return real_claim(candidates, name)

    monkeypatch.setattr(contact_sync, "claim", saved_meanwhile)
    with pytest.raises(CommandError, match="guardó un paciente mientras se sincronizaba; no se cambió nada"):
        sync()
    monkeypatch.setattr(contact_sync, "claim", real_claim)

    assert "1 contacto nuevo" in sync()
    assert list(Contact.objects.values_list("source_ref", flat=True)) == [ref]
