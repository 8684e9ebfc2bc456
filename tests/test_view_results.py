"""The "Resultados" page: past campaigns side by side, for those allowed to see campaigns."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goteo.models import Campaign, CampaignStatus
from tests.dashboard import page_text, sign_in

pytestmark = pytest.mark.django_db

URL = "/dashboard/promociones/resultados/"


def allow(username: str = "ana") -> None:
    """Give the signed-in staff member the permission to see campaigns."""
    seeing = Permission.objects.get(codename="view_campaign", content_type__app_label="goteo")
    get_user_model().objects.get(username=username).user_permissions.add(seeing)


def started(make_campaign, name: str, **counters) -> Campaign:
    campaign = make_campaign(1)
    Campaign.objects.filter(pk=campaign.pk).update(name=name, status=CampaignStatus.COMPLETED, **counters)
    return campaign


def test_its_address_is_the_one_the_owner_was_given():
    assert reverse("goteo:results") == URL


def test_it_compares_each_campaigns_replies_redemptions_and_opt_outs(staff, make_campaign):
    allow()
    started(
        make_campaign,
        "Navidad",
        sent_count=200,
        delivered_count=190,
        replied_count=30,
        redeemed_count=9,
        opted_out_count=2,
    )
    started(make_campaign, "Día de la madre", sent_count=40, delivered_count=40, replied_count=1)

    text = page_text(staff.get(URL))

    assert "Navidad\nPROMO1 · 02/01/2026" in text
    assert "\n".join(["200", "95 % (190)", "15 % (30)", "4,5 % (9)", "1 % (2)"]) in text
    assert (
        "\n".join(
            ["Día de la madre", "PROMO2 · 02/01/2026", "40", "100 % (40)", "2,5 % (1)", "0 % (0)", "0 % (0)"]
        )
        in text
    )
    assert text.index("Día de la madre") < text.index("Navidad")  # the newest first
    assert "«—»" not in text  # every campaign sent: no dash to explain


def test_it_names_every_figure_for_a_phone_reading_row_by_row(staff, make_campaign):
    allow()
    started(make_campaign, "Navidad", sent_count=10, replied_count=1)

    html = staff.get(URL).content.decode()

    for label in ("Enviados", "Respondieron", "Canjearon", "Pidieron la baja"):
        assert f'data-label="{label}"' in html  # each cell says what it is once the table reflows


def test_a_campaign_that_sent_nothing_shows_dashes_not_an_error(staff, make_campaign):
    allow()
    started(make_campaign, "Recién iniciada", failed_count=2)

    response = staff.get(URL)
    text = page_text(response)

    assert response.status_code == 200
    assert (
        "\n".join(["Recién iniciada", "PROMO1 · 02/01/2026", "0", "— (0)", "— (0)", "— (0)", "— (0)"]) in text
    )


def test_drafts_and_simulations_have_nothing_to_compare(staff, make_campaign):
    allow()
    make_campaign(1, launch=False)
    simulated = make_campaign(1)
    Campaign.objects.filter(pk=simulated.pk).update(simulation=True, simulated_count=1)

    text = page_text(staff.get(URL))

    assert "Campaña 1" not in text and "Campaña 2" not in text
    assert "Cuando una campaña empiece a enviar, aquí podrá comparar lo que trajo cada una." in text


def test_it_reads_the_counters_not_the_messages_however_many_campaigns(staff, make_campaign):
    allow()
    started(make_campaign, "Primera", sent_count=5)
    staff.get(URL)
    with CaptureQueriesContext(connection) as one:
        staff.get(URL)
    for n in range(5):
        started(make_campaign, f"Otra {n}", sent_count=n)
    with CaptureQueriesContext(connection) as six:
        staff.get(URL)

    assert len(one.captured_queries) == len(six.captured_queries)
    assert not any("goteo_message" in q["sql"] for q in six.captured_queries)


def test_it_is_linked_from_both_menus(staff):
    html = staff.get(reverse("goteo:campaign_list")).content.decode()

    assert html.count(f'href="{URL}"') == 2


def test_staff_who_may_not_see_campaigns_get_the_denied_page(client, db):
    sign_in(client, "beto", role="")  # a staff account without a role
    response = client.get(URL)

    assert response.status_code == 403
    assert "Sin acceso" in page_text(response)


def test_a_visitor_is_sent_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("goteo:login"))


def test_it_pages_many_campaigns(staff, make_campaign):
    allow()
    for n in range(27):
        started(make_campaign, f"Campaña número {n}", sent_count=1)

    first, second = page_text(staff.get(URL)), page_text(staff.get(URL, {"pagina": 2}))

    assert "Campaña número 26" in first and "Campaña número 1\n" not in first
    assert "Campaña número 1\n" in second and "Campaña número 0\n" in second
