"""The campaign wizard never rewrites an existing promotion behind its campaigns' backs."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from goteo.models import Campaign, Promotion
from tests.dashboard import page_text
from tests.test_view_campaign_form import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def navidad(memory_sender):
    promotion = Promotion.objects.create(
        name="Navidad",
        code="NAVIDAD2026",
        benefit="30% de descuento en Monturas",
        valid_until=date(2026, 2, 2),
    )
    return Campaign.objects.create(
        name="Navidad vieja", promotion=promotion, sender=memory_sender, template="Hola {name}"
    )


def test_a_typo_in_the_expiry_is_refused_naming_the_change_and_the_campaigns(staff, navidad, memory_sender):
    data = form_data(memory_sender, action="save", name="Otra", new_promotion_valid_until="2025-01-01")
    response = staff.post(reverse("goteo:campaign_new"), data)
    text = page_text(response)
    assert response.status_code == 200
    assert "válida hasta: 02/02/2026 → 01/01/2025" in text
    assert f"«Navidad vieja» (#{navidad.pk}, Borrador)" in text
    assert "Actualizar la promoción existente en todas sus campañas" in text
    assert Promotion.objects.get().valid_until == date(2026, 2, 2)
    assert not Campaign.objects.filter(name="Otra").exists()


def test_the_checkbox_updates_the_promotion_for_every_campaign(staff, navidad, memory_sender):
    data = form_data(
        memory_sender,
        action="save",
        name="Otra",
        new_promotion_valid_until="2026-03-01",
        update_promotion="on",
    )
    response = staff.post(reverse("goteo:campaign_new"), data, follow=True)
    other = Campaign.objects.get(name="Otra")
    assert other.promotion_id == navidad.promotion_id
    assert Promotion.objects.get().valid_until == date(2026, 3, 1)
    assert "Promoción NAVIDAD2026 actualizada (válida hasta: 02/02/2026 → 01/03/2026)." in page_text(response)


def test_the_same_fields_or_only_the_code_reuse_the_promotion(staff, navidad, memory_sender):
    staff.post(reverse("goteo:campaign_new"), form_data(memory_sender, action="save", name="Igual"))
    bare = form_data(
        memory_sender,
        action="save",
        name="Solo código",
        new_promotion_code="navidad2026",
        new_promotion_name="",
        new_promotion_benefit="",
        new_promotion_valid_until="",
    )
    staff.post(reverse("goteo:campaign_new"), bare)
    assert Promotion.objects.count() == 1
    assert set(Campaign.objects.values_list("promotion_id", flat=True)) == {navidad.promotion_id}
    assert Campaign.objects.count() == 3
