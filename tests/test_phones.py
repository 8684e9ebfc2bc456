"""Phone normalization to E.164 and masking for logs."""

import pytest

from goteo.phones import InvalidPhone, mask_phone, normalize_phone


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
