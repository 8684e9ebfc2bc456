"""Phone normalization to E.164 and masking for logs."""

import pytest

from goteo.phones import InvalidPhone, mask_phone, normalize_phone, read_phone


@pytest.mark.parametrize(
    "raw",
    ["3009787566", "300 978 7566", "300-978-7566", "+57 300 978 7566", "573009787566", "0057 3009787566"],
)
def test_it_normalizes_colombian_mobiles(raw):
    assert normalize_phone(raw, "CO") == "+573009787566"


def test_it_keeps_foreign_numbers_with_their_country_code():
    assert normalize_phone("+34 612 345 678", "CO") == "+34612345678"


@pytest.mark.parametrize("raw", ["", "abc", "123", "300978756"])
def test_it_rejects_invalid_numbers(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw, "CO")


def test_it_uses_the_configured_region(settings):
    settings.GOTEO_PHONE_REGION = "ES"
    assert normalize_phone("612345678") == "+34612345678"


def test_it_masks_the_middle_of_a_number():
    assert mask_phone("+573009787566") == "+57300****566"
    assert "9787" not in mask_phone("+573009787566")


# --- contacts keep E.164 however they are saved ---------------------------------------------
@pytest.mark.django_db
def test_it_normalizes_a_contact_saved_without_the_import():
    from goteo.models import Contact

    contact = Contact.objects.create(full_name="Daniel Osorio", phone="300 978 7566", consent=True)
    contact.refresh_from_db()
    assert contact.phone == "+573009787566"


@pytest.mark.django_db
def test_it_keeps_an_invalid_phone_as_typed_and_leaves_phone_empty():
    from goteo.models import Contact

    contact = Contact.objects.create(full_name="Sin Número", phone="xyz 12", consent=True)
    contact.refresh_from_db()
    assert (contact.phone, contact.phone_raw) == ("", "xyz 12")


@pytest.mark.django_db
def test_it_refuses_an_invalid_phone_in_a_form(client):
    from django.urls import reverse

    from goteo.models import Contact
    from tests.dashboard import make_user

    client.force_login(make_user("root", superuser=True))
    response = client.post(
        reverse("admin:goteo_contact_add"), {"full_name": "Sin Número", "phone": "xyz 12", "consent": "on"}
    )
    assert response.status_code == 200
    assert "teléfono inválido" in response.content.decode()
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("raw", "landline"),
    [
        ("(604) 444 5555", True),  # Medellín's fixed-line prefix since 2022
        ("601 234 5678", True),  # Bogotá
        ("300 978 7566", False),
        ("+34 912 345 678", True),  # Madrid
        ("+1 212 555 0100", False),  # FIXED_LINE_OR_MOBILE in the US: counted as mobile
    ],
)
def test_it_tells_a_landline_from_a_mobile(raw, landline):
    assert read_phone(raw, "CO").landline is landline
