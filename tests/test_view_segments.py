"""The Segmentos page: counts, the rule editor without JSON, per-rule errors, roles, deleting."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from goteo.models import Campaign, CampaignStatus, Contact, Segment, Tag
from tests.dashboard import make_user, page_text, sign_in

pytestmark = pytest.mark.django_db

LENSES = {"producto": "lentes de contacto"}


@pytest.fixture
def shop(db):
    """The clock's day is 2 January 2026: Ana's exam is over a year old, Beto's is not."""
    vip = Tag.objects.create(name="vip")
    ana = Contact.objects.create(
        full_name="Ana", phone="+573001110001", consent=True, last_visit=date(2024, 12, 1), attributes=LENSES
    )
    ana.tags.add(vip)
    Contact.objects.create(  # in the segment, but may not receive
        full_name="Ana sin permiso", phone="+573001110002", last_visit=date(2024, 5, 1), attributes=LENSES
    )
    Contact.objects.create(
        full_name="Beto", phone="+573001110003", consent=True, last_visit=date(2025, 6, 1), attributes=LENSES
    )
    return Segment.objects.create(
        name="un año sin examen",
        rules=[
            {"field": "last_visit", "op": "older_than", "value": 12, "unit": "months"},
            {"field": "attribute", "name": "producto", "op": "equals", "value": "lentes de contacto"},
        ],
    )


def rows(*rules: tuple[str, str, str, str], name: str = "cumpleañeros", action: str = "save") -> dict:
    data = {"name": name, "action": action}
    for i, (kind, attribute, value, unit) in enumerate(rules):
        data |= {
            f"rule-{i}-kind": kind,
            f"rule-{i}-name": attribute,
            f"rule-{i}-value": value,
            f"rule-{i}-unit": unit,
        }
    return data


def test_the_list_shows_rules_in_words_and_todays_counts(staff, shop):
    text = page_text(staff.get(reverse("goteo:segment_list")))

    assert "un año sin examen" in text
    assert "última visita hace al menos 12 meses" in text
    assert "«producto» es «lentes de contacto»" in text
    assert "Contactos hoy\n2" in text
    assert "Pueden recibir promociones\n1" in text


def test_the_menu_leads_there_next_to_contacts(staff, shop):
    html = staff.get(reverse("goteo:contact_list")).content.decode()

    assert html.index(reverse("goteo:contact_list")) < html.index(reverse("goteo:segment_list"))


def test_it_saves_a_segment_typed_row_by_row(staff, shop):
    data = rows(
        ("birth_date.birthday_within", "", "7", "days"),
        ("tag.has_not", "", " vip ", "days"),
        ("last_visit.before", "", "31/12/2025", "days"),
    )

    response = staff.post(reverse("goteo:segment_new"), data, follow=True)

    assert "Segmento «cumpleañeros» guardado." in page_text(response)
    assert Segment.objects.get(name="cumpleañeros").rules == [
        {"field": "birth_date", "op": "birthday_within", "value": 7},
        {"field": "tag", "op": "has_not", "value": "vip"},
        {"field": "last_visit", "op": "before", "value": "2025-12-31"},
    ]


def test_each_rule_shows_its_own_error_and_nothing_is_saved(staff, shop):
    data = rows(
        ("tag.has", "", "vip", "days"),
        ("attribute.equals", "producto__contains", "x", "days"),
        ("birth_date.birthday_within", "", "400", "days"),
        ("last_visit.after", "", "31/02/2025", "days"),
    )

    text = page_text(staff.post(reverse("goteo:segment_new"), data))

    assert "Regla 1" in text and "Regla 1 (" not in text
    assert "Regla 2 (atributo): el nombre del atributo solo puede tener letras" in text
    assert "Regla 3 (fecha de nacimiento): el número debe estar entre 1 y 366." in text
    assert "Regla 4 (última visita): la fecha debe ser un día válido" in text
    assert not Segment.objects.filter(name="cumpleañeros").exists()


def test_adding_removing_and_counting_work_without_scripts(staff, shop):
    url = reverse("goteo:segment_new")
    one = rows(("tag.has", "", "vip", "days"), action="add")

    added = staff.post(url, one).content.decode()
    assert 'name="rule-1-kind"' in added and 'name="rule-2-kind"' not in added
    assert "1 contacto hoy" in page_text(staff.post(url, one))  # the count follows every post

    two = rows(("tag.has", "", "vip", "days"), ("tag.has", "", "nadie", "days"), action="count")
    assert "0 contactos hoy" in page_text(staff.post(url, two))
    removed = staff.post(url, two | {"remove": "1", "action": ""})
    text = page_text(removed)
    assert "1 contacto hoy · 1 puede recibir promociones" in text
    assert 'name="rule-1-kind"' not in removed.content.decode()
    assert not Segment.objects.filter(name="cumpleañeros").exists()  # nothing saved meanwhile


def test_it_edits_a_segment_showing_its_rules_as_rows(staff, shop):
    url = reverse("goteo:segment_edit", args=[shop.pk])
    html = staff.get(url).content.decode()
    assert 'value="last_visit.older_than" selected' in html
    assert 'value="producto"' in html

    data = rows(("last_visit.older_than", "", "6", "months"), name="medio año sin examen")
    staff.post(url, data)

    shop.refresh_from_db()
    assert shop.name == "medio año sin examen"
    assert shop.rules == [{"field": "last_visit", "op": "older_than", "value": 6, "unit": "months"}]


def test_a_name_with_a_null_byte_is_refused_not_an_error(staff, shop):
    response = staff.post(reverse("goteo:segment_new"), rows(("tag.has", "", "vip\x00", ""), name="a\x00b"))

    text = page_text(response)
    assert response.status_code == 200
    assert "El nombre tiene caracteres no permitidos." in text
    assert "Regla 1 (etiqueta): el nombre de la etiqueta tiene caracteres no permitidos." in text


def test_a_name_already_taken_is_said(staff, shop):
    text = page_text(
        staff.post(reverse("goteo:segment_new"), rows(("tag.has", "", "vip", ""), name=shop.name))
    )

    assert "Ya existe un segmento llamado «un año sin examen»." in text


def test_a_segment_in_use_cannot_be_deleted_or_renamed(staff, shop, make_campaign):
    using = make_campaign(0, launch=False, audience=shop.audience_spec)
    done = make_campaign(0, launch=False, audience=shop.audience_spec)
    Campaign.objects.filter(pk=using.pk).update(name="Recordatorio de examen")
    Campaign.objects.filter(pk=done.pk).update(name="Vieja", status=CampaignStatus.COMPLETED)

    refused = staff.post(reverse("goteo:segment_delete", args=[shop.pk]), follow=True)
    assert (
        "No se puede borrar el segmento «un año sin examen»: lo usan las campañas «Recordatorio de examen»."
        in page_text(refused)
    )
    renamed = staff.post(
        reverse("goteo:segment_edit", args=[shop.pk]), rows(("tag.has", "", "vip", ""), name="otro")
    )
    assert "No se puede cambiar el nombre: lo usan las campañas «Recordatorio de examen»." in page_text(
        renamed
    )
    assert Segment.objects.filter(name="un año sin examen").exists()


def test_a_segment_nobody_uses_is_deleted_after_asking(staff, shop):
    url = reverse("goteo:segment_delete", args=[shop.pk])

    assert "¿Borrar el segmento «un año sin examen»?" in page_text(staff.get(url))
    assert Segment.objects.exists()
    response = staff.post(url, follow=True)

    assert "Segmento «un año sin examen» borrado." in page_text(response)
    assert not Segment.objects.exists()
    assert Contact.objects.count() == 3


@pytest.mark.parametrize("name", ["segment_list", "segment_new", "segment_edit", "segment_delete"])
def test_the_counter_staff_cannot_open_segments(client, shop, name):
    sign_in(client, "caja", role="Mostrador")
    args = [shop.pk] if name in ("segment_edit", "segment_delete") else []

    assert client.get(reverse(name.join(["goteo:", ""]), args=args)).status_code == 403
    assert client.post(reverse(name.join(["goteo:", ""]), args=args), rows()).status_code == 403
    assert Segment.objects.count() == 1
    assert "Segmentos" not in page_text(client.get(reverse("goteo:redeem")))


def test_a_post_without_the_csrf_token_is_refused(db, shop):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(sign_in(Client(), "dueno"))

    response = browser.post(reverse("goteo:segment_delete", args=[shop.pk]))

    assert response.status_code == 403
    assert Segment.objects.exists()


def test_a_campaign_shows_its_segment_in_words(staff, shop, make_campaign):
    campaign = make_campaign(0, launch=False, audience=shop.audience_spec)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Audiencia\nsegmento «un año sin examen»" in text
    assert "segment:" not in text


def test_the_admin_checks_the_rules_and_keeps_a_segment_in_use(client, shop, make_campaign):
    client.force_login(make_user("root", superuser=True))
    bad = {"name": "mal", "rules": '[{"field": "tag", "op": "has", "value": "x", "sql": "1=1"}]'}

    text = page_text(client.post(reverse("admin:goteo_segment_add"), bad))

    assert "Regla 1: dato desconocido «sql»." in text
    assert not Segment.objects.filter(name="mal").exists()
    make_campaign(0, launch=False, audience=shop.audience_spec)
    delete = reverse("admin:goteo_segment_delete", args=[shop.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:goteo_segment_changelist"),
        {"action": "delete_selected", "_selected_action": [shop.pk], "post": "yes"},
    )
    assert Segment.objects.filter(pk=shop.pk).exists()
