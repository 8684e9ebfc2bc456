"""/api/v1/contacts/: create or update by phone, Spanish field errors with a 400, opt-outs that
nothing sent through the API lifts, and contacts' data only for roles that may see it."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from goteo.models import Contact, MessageStatus, SkipReason
from tests.api_calls import call, token_for

pytestmark = pytest.mark.django_db

PATIENT = {
    "phone": "300 978 7566",
    "name": "Marta Gómez",
    "consent": True,
    "birth_date": "1985-02-28",
    "last_visit": "2025-11-03",
    "attributes": {"producto": "lentes de contacto"},
    "tags": ["examen"],
}


@pytest.fixture(autouse=True)
def _pinned(monkeypatch, clock):
    monkeypatch.setattr("goteo.api.auth.clock", clock)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner():
    return token_for("optica", role="Dueño")


def test_it_creates_a_contact_with_its_dates_attributes_and_consent(client, owner, clock):
    response = call(client, "post", "contacts/", owner, PATIENT)

    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True
    assert body["phone"] == "+573009787566"
    assert body["warnings"] == []
    contact = Contact.objects.get()
    assert contact.full_name == "Marta Gómez"
    assert (contact.birth_date, contact.last_visit) == (date(1985, 2, 28), date(2025, 11, 3))
    assert contact.attributes == {"producto": "lentes de contacto"}
    assert [t.name for t in contact.tags.all()] == ["examen"]
    assert (contact.consent, contact.consent_at, contact.consent_source) == (True, clock.now(), "API")
    assert body["tags"] == ["examen"] and body["last_visit"] == "2025-11-03"


def test_it_updates_the_contact_with_that_phone_changing_only_what_was_sent(client, owner):
    call(client, "post", "contacts/", owner, PATIENT)

    response = call(
        client,
        "post",
        "contacts/",
        owner,
        {
            "phone": "+57 300 978 7566",
            "last_visit": "2026-01-02",
            "attributes": {"montura": "Ray-Ban"},
            "tags": ["vip"],
        },
    )

    assert response.status_code == 200
    assert response.json()["created"] is False
    contact = Contact.objects.get()
    assert contact.full_name == "Marta Gómez"
    assert contact.birth_date == date(1985, 2, 28)
    assert contact.last_visit == date(2026, 1, 2)
    assert contact.attributes == {"producto": "lentes de contacto", "montura": "Ray-Ban"}
    assert sorted(t.name for t in contact.tags.all()) == ["examen", "vip"]
    assert contact.consent is True


def test_an_empty_attribute_removes_it_and_a_null_date_clears_it(client, owner):
    call(client, "post", "contacts/", owner, PATIENT)

    call(
        client,
        "post",
        "contacts/",
        owner,
        {"phone": "3009787566", "attributes": {"producto": ""}, "birth_date": None},
    )

    contact = Contact.objects.get()
    assert contact.attributes == {}
    assert contact.birth_date is None
    assert contact.last_visit == date(2025, 11, 3)


def test_consent_through_the_api_never_lifts_an_opt_out(client, owner):
    call(client, "post", "contacts/", owner, PATIENT)
    Contact.objects.get().opt_out("whatsapp", Contact.objects.get().created_at)

    response = call(
        client, "post", "contacts/", owner, {"phone": "3009787566", "consent": True, "name": "Marta G."}
    )

    assert response.status_code == 200
    assert response.json()["opted_out"] is True
    assert response.json()["warnings"] == [
        "Esta persona pidió no recibir más promociones; su consentimiento no cambia y sigue sin "
        "recibirlas hasta que ella misma lo pida de nuevo."
    ]
    contact = Contact.objects.get()
    assert contact.opted_out is True
    assert contact.opt_out_source == "whatsapp"
    assert contact.full_name == "Marta G."


def test_consent_false_withdraws_it(client, owner):
    call(client, "post", "contacts/", owner, PATIENT)

    call(client, "post", "contacts/", owner, {"phone": "3009787566", "consent": False})

    assert Contact.objects.get().consent is False


def test_a_landline_is_saved_with_a_warning(client, owner):
    response = call(client, "post", "contacts/", owner, {"phone": "601 555 1234", "name": "Consultorio"})

    assert response.status_code == 201
    assert response.json()["landline"] is True
    assert "teléfono fijo" in response.json()["warnings"][0]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "Ana"}, "phone", "falta este dato"),
        ({"phone": "123", "name": "Ana"}, "phone", "'123' no es un número válido"),
        ({"phone": "abc", "name": "Ana"}, "phone", "'abc' no se entiende como número"),
        ({"phone": "3009787566"}, "name", "falta: un contacto nuevo necesita su nombre"),
        ({"phone": "3009787566", "name": "   "}, "name", "está vacío"),
        ({"phone": "3009787566", "name": "Ana", "consent": "si"}, "consent", "debe ser true o false"),
        (
            {"phone": "3009787566", "name": "Ana", "birth_date": "28/02/1985"},
            "birth_date",
            "fecha no válida: escríbala AAAA-MM-DD, p. ej. 2026-03-31",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "last_visit": 1700000000},
            "last_visit",
            "fecha no válida: escríbala AAAA-MM-DD, p. ej. 2026-03-31",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "birth_date": "2023-02-29"},
            "birth_date",
            "esa fecha no existe en el calendario",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "last_visit": "2026-05-01"},
            "last_visit",
            "es una fecha futura (2026-05-01); hoy es 2026-01-02",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "attributes": ["producto"]},
            "attributes",
            "debe ser un objeto JSON",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "attributes": {"edad": 40}},
            "attributes.edad",
            "debe ser texto",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "attributes": {"nota": "x" * 201}},
            "attributes",
            "el valor de «nota» pasa de 200 caracteres",
        ),
        (
            {"phone": "3009787566", "name": "Ana", "attributes": {f"k{i}": "v" for i in range(31)}},
            "attributes",
            "tiene 31 datos; el máximo es 30",
        ),
        ({"phone": "3009787566", "name": "Ana", "tags": "vip"}, "tags", "debe ser una lista"),
        (
            {"phone": "3009787566", "name": "Ana", "tags": ["x" * 65]},
            "tags",
            "tiene 65 caracteres; el máximo es 64",
        ),
        ({"phone": "3009787566", "name": "Ana", "telefono": "1"}, "telefono", "campo desconocido"),
        ({"phone": "3009787566", "name": "A" * 201}, "name", "es demasiado largo (máximo 200 caracteres)"),
    ],
)
def test_bad_input_gets_a_400_naming_the_field_in_spanish(client, owner, body, field, message):
    response = call(client, "post", "contacts/", owner, body)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert any(message in text for text in errors[field]), errors
    assert response.json()["detail"] == "Hay datos no válidos; vea «errors»."
    assert not Contact.objects.exists()


def test_a_body_that_is_not_json_gets_a_400(client, owner):
    response = call(client, "post", "contacts/", owner, "{phone: 300")

    assert response.status_code == 400
    assert "JSON" in str(response.json()["errors"])


def test_it_reads_a_contact_by_phone(client, owner):
    call(client, "post", "contacts/", owner, PATIENT)

    response = call(client, "get", "contacts/+573009787566/", owner)
    local = call(client, "get", "contacts/3009787566/", owner)

    assert response.status_code == 200
    assert response.json()["name"] == "Marta Gómez"
    assert local.json() == response.json()
    assert "created" not in response.json()


def test_an_unknown_phone_is_a_404_and_a_bad_one_a_400(client, owner):
    missing = call(client, "get", "contacts/3001112233/", owner)
    bad = call(client, "get", "contacts/12/", owner)

    assert missing.status_code == 404
    assert missing.json() == {"detail": "No hay ningún contacto con el teléfono 3001112233."}
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["phone"]


def test_opting_out_skips_what_is_pending_and_can_be_repeated(client, owner, make_campaign):
    campaign = make_campaign(3)
    phone = campaign.messages.first().phone

    first = call(client, "post", f"contacts/{phone}/opt-out/", owner)
    again = call(client, "post", f"contacts/{phone}/opt-out/", owner)

    assert first.status_code == again.status_code == 200
    assert first.json()["skipped"] == 1 and again.json()["skipped"] == 0
    assert first.json()["opted_out_at"] == again.json()["opted_out_at"]
    contact = Contact.objects.get(phone=phone)
    assert (contact.opted_out, contact.opt_out_source) == (True, "API")
    message = campaign.messages.get(phone=phone)
    assert (message.status, message.skip_reason) == (MessageStatus.SKIPPED, SkipReason.OPTED_OUT)


def test_the_counter_role_sees_no_contact_and_changes_none(client, make_campaign):
    campaign = make_campaign(1)
    phone = campaign.messages.get().phone
    counter = token_for("mostrador", role="Mostrador")

    read = call(client, "get", f"contacts/{phone}/", counter)
    save = call(client, "post", "contacts/", counter, PATIENT)
    out = call(client, "post", f"contacts/{phone}/opt-out/", counter)

    assert (read.status_code, save.status_code, out.status_code) == (403, 403, 403)
    assert read.json() == {"detail": "Su usuario no tiene permiso para ver los datos de los contactos."}
    assert phone not in read.content.decode()
    assert Contact.objects.count() == 1
    assert Contact.objects.get().opted_out is False


def test_a_user_who_may_edit_but_not_add_contacts_cannot_create_one(client, owner):
    from django.contrib.auth.models import Permission

    from goteo.models import ApiToken
    from tests.dashboard import make_user

    user = make_user("editor", role="")
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_contact", "change_contact"], content_type__app_label="goteo"
        )
    )
    _row, token = ApiToken.issue(user)
    call(client, "post", "contacts/", owner, PATIENT)

    update = call(client, "post", "contacts/", token, {"phone": "3009787566", "last_visit": "2026-01-02"})
    create = call(client, "post", "contacts/", token, {"phone": "3001112233", "name": "Nueva"})

    assert update.status_code == 200
    assert create.status_code == 403
    assert create.json()["detail"] == "Su usuario no tiene permiso para crear contactos."


def test_a_program_posts_without_a_csrf_token_even_beside_a_session(owner):
    from django.test import Client

    from tests.dashboard import make_user

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("root", superuser=True))

    response = call(strict, "post", "contacts/", owner, PATIENT)

    assert response.status_code == 201
