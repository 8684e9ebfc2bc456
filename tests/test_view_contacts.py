"""Contacts: list and search, and the opt-out toggle (importing: test_view_contact_import.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from goteo.models import Contact, MessageStatus, SkipReason, Tag
from tests.dashboard import page_text


@pytest.fixture
def contacts(db):
    vip = Tag.objects.create(name="vip")
    daniel = Contact.objects.create(full_name="Daniel Osorio", phone="+573009787566", consent=True)
    daniel.tags.add(vip)
    Contact.objects.create(full_name="María García", phone="+573101234567", consent=False)
    Contact.objects.create(full_name="Juan Pérez", phone="+573111111111", consent=True, opted_out=True)


def test_it_lists_contacts_with_consent_tags_and_opt_out(staff, contacts):
    text = page_text(staff.get(reverse("goteo:contact_list")))

    assert "Contactos (3)" in text
    assert "Daniel Osorio" in text and "vip" in text
    assert "dado de baja" in text
    assert "Volver a recibir" in text and "Dar de baja" in text


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"q": "daniel"}, "Daniel Osorio", "María García"),
        ({"q": "310 123 4567"}, "María García", "Daniel Osorio"),
        ({"q": "7566"}, "Daniel Osorio", "María García"),
        ({"filtro": "baja"}, "Juan Pérez", "Daniel Osorio"),
        ({"filtro": "sin-consentimiento"}, "María García", "Daniel Osorio"),
        ({"filtro": "activos"}, "Daniel Osorio", "Juan Pérez"),
        ({"etiqueta": "vip"}, "Daniel Osorio", "María García"),
    ],
)
def test_it_searches_and_filters(staff, contacts, params, shown, hidden):
    text = page_text(staff.get(reverse("goteo:contact_list"), params))

    assert shown in text
    assert hidden not in text


def test_it_opts_a_contact_out_and_skips_their_pending_messages(staff, make_campaign):
    campaign = make_campaign(2)
    contact = Contact.objects.order_by("id")[0]

    response = staff.post(reverse("goteo:contact_opt_out", args=[contact.pk]), {"opt_out": "1"}, follow=True)

    contact.refresh_from_db()
    assert contact.opted_out and contact.opt_out_source == "panel:ana"
    message = campaign.messages.get(contact=contact)
    assert message.status == MessageStatus.SKIPPED and message.skip_reason == SkipReason.OPTED_OUT
    assert "ya no recibirá promociones (1 mensajes pendientes omitidos)" in page_text(response)


def test_it_opts_a_contact_back_in(staff, contacts):
    juan = Contact.objects.get(full_name="Juan Pérez")

    staff.post(reverse("goteo:contact_opt_out", args=[juan.pk]), {"opt_out": "0"})

    juan.refresh_from_db()
    assert not juan.opted_out and juan.consent and juan.consent_source == "panel:ana"


def test_it_returns_to_the_filtered_list_but_never_off_site(staff, contacts):
    daniel = Contact.objects.get(full_name="Daniel Osorio")
    url = reverse("goteo:contact_opt_out", args=[daniel.pk])

    inside = staff.post(url, {"opt_out": "1", "next": "/dashboard/promociones/contactos/?q=dan"})
    outside = staff.post(url, {"opt_out": "1", "next": "https://example.com/"})

    assert inside["Location"] == "/dashboard/promociones/contactos/?q=dan"
    assert outside["Location"] == reverse("goteo:contact_list")
