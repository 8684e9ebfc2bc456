"""The forecast's one expiry warning, and one pace for launched campaigns and drafts alike."""

from datetime import date, datetime

import pytest
from django.utils import translation

from goteo.audience import audience
from goteo.draft import draft_outlook
from goteo.forecast import campaign_forecast, draft_forecast, expiry_warning, forecast_warning
from goteo.launch import campaign_launch
from goteo.models import Campaign, Contact
from tests.conftest import BOGOTA

NOW = datetime(2026, 1, 2, 9, 0, tzinfo=BOGOTA)
EXPIRES = date(2026, 1, 6)


def test_it_warns_only_when_the_end_is_after_the_expiry():
    assert expiry_warning(date(2026, 1, 6), EXPIRES) == ""
    assert expiry_warning(None, None) == ""
    late = expiry_warning(date(2026, 1, 8), EXPIRES)
    assert late.startswith(
        "Al ritmo configurado terminaría el jueves 8 de enero de 2026, después del vencimiento"
    )
    assert "(06/01/2026)" in late and late.endswith("Suba el límite diario o amplíe la vigencia.")
    assert expiry_warning(None, EXPIRES).startswith("Al ritmo configurado no terminaría nunca, después")
    said = expiry_warning(date(2026, 1, 8), EXPIRES, finish_said=True)
    assert said.startswith("Eso es después del vencimiento de la promoción (06/01/2026)")


def test_it_is_translated_for_an_english_page():
    with translation.override("en"):
        assert expiry_warning(date(2026, 1, 8), EXPIRES).startswith(
            "At the configured pace it would finish on"
        )
        assert expiry_warning(None, EXPIRES).startswith("At the configured pace it would never finish")


@pytest.mark.django_db
def test_a_draft_and_its_launch_foresee_the_same_day_and_say_the_same_warning(make_campaign):
    draft = make_campaign(50, launch=False, daily_limit=10, valid_until=EXPIRES)
    assert draft_outlook(draft, Contact.objects.none(), NOW) == (0, None, "")  # nobody: nothing to foresee

    count, finish, warning = draft_outlook(draft, audience(draft), NOW)
    assert count == 50 and finish == draft_forecast(draft, 50, NOW)
    assert warning == expiry_warning(finish, EXPIRES) != ""

    result = campaign_launch(draft, NOW)
    launched = Campaign.objects.get(pk=draft.pk)
    assert result.forecast == campaign_forecast(launched, NOW) == finish
    assert warning in result.warnings
    assert forecast_warning(launched, NOW) == (warning, finish)
