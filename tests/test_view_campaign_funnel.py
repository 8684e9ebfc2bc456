"""The campaign page's results: the funnel, and redemptions on the sends-per-day chart."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, Redemption
from tests.conftest import at
from tests.dashboard import page_text

pytestmark = pytest.mark.django_db

MONDAY_NOON = at(2026, 1, 5, 12)


def sent_friday(make_campaign, clock, n: int = 10, **counters) -> Campaign:
    """``n`` sent on Friday 2 January; the funnel's counters as given; the page on Monday noon."""
    campaign = make_campaign(n, daily_limit=20)
    Message.move(campaign.messages.all(), MessageStatus.SENT, clock.now(), sent_at=at(2026, 1, 2, 10))
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.COMPLETED, **counters)
    clock.set(MONDAY_NOON)
    return campaign


def page(staff, campaign):
    return staff.get(reverse("goteo:campaign_detail", args=[campaign.pk]))


def redeem(campaign: Campaign, message: Message, when) -> None:
    Redemption.objects.create(
        promotion_id=campaign.promotion_id,
        campaign=campaign,
        message=message,
        phone=message.phone,
        redeemed_at=when,
        redeemed_by="ana",
    )


def test_it_draws_the_funnel_with_counts_and_shares_of_those_sent(staff, make_campaign, clock):
    campaign = sent_friday(
        make_campaign,
        clock,
        delivered_count=8,
        read_count=6,
        replied_count=3,
        redeemed_count=2,
        opted_out_count=1,
        failed_count=0,
    )

    response = page(staff, campaign)
    text, html = page_text(response), response.content.decode()

    assert "Resultados" in text
    for line in (
        "Enviados 10",
        "Entregados 8 · 80 %",
        "Leídos 6 · 60 %",
        "Respondieron 3 · 30 %",
        "Canjearon 2 · 20 %",
    ):
        assert line in text.splitlines(), line
    assert "Pidieron la baja: 1 (10 %)" in text
    assert "Fallidos: 0 (0 %)" in text
    # Bars a screen reader can name: each says its step and share, not only a length.
    assert '<progress max="100" value="80" aria-label="Entregados: 80 %">' in html
    assert '<progress max="100" value="20" aria-label="Canjearon: 20 %">' in html


def test_a_campaign_that_sent_nothing_yet_says_what_will_show(staff, make_campaign, clock):
    campaign = make_campaign(4)  # launched, nothing sent

    html = page(staff, campaign).content.decode()
    funnel = html.split('id="funnel-title"', 1)[1].split("</section>", 1)[0]

    assert "Cuando salgan los primeros mensajes, aquí verá cuántos llegaron" in funnel
    assert "%" not in funnel and "<progress" not in funnel  # no share of nobody


@pytest.mark.parametrize("kind", ["draft", "simulation"])
def test_a_draft_or_a_simulation_has_no_funnel(staff, make_campaign, clock, kind):
    campaign = make_campaign(4, launch=kind != "draft")
    if kind == "simulation":
        Campaign.objects.filter(pk=campaign.pk).update(simulation=True)

    html = page(staff, campaign).content.decode()

    assert 'id="funnel-title"' not in html


def test_it_adds_the_redemptions_of_each_local_day_to_the_chart(staff, make_campaign, clock):
    campaign = sent_friday(make_campaign, clock, redeemed_count=3)
    first, second, third = campaign.messages.order_by("id")[:3]
    redeem(campaign, first, at(2026, 1, 2, 18))
    redeem(campaign, second, at(2026, 1, 2, 18, 30))
    redeem(campaign, third, at(2026, 1, 4, 23, 30))  # Sunday night in Bogotá, Monday in UTC

    response = page(staff, campaign)
    html, text = response.content.decode(), page_text(response)

    titles = re.findall(r"<title>([^<]+)</title>", html)[1:]
    assert titles == [
        "viernes 2 de enero de 2026: 10 enviados · 2 canjes",
        "domingo 4 de enero de 2026: 1 canje",
        "lunes 5 de enero de 2026: 0",
    ]
    assert re.findall(r'height="(\d+)" class="chart-redeemed"', html) == [
        str(round((160 - 20 - 26) * 2 / 20)),
        str(round((160 - 20 - 26) * 1 / 20)),
    ]
    assert "Envíos y canjes por día" in text
    assert "canjes en el local" in text  # the legend names the bar, not only its colour
    assert "10 enviados en estos días. 3 personas canjearon la promoción en el local." in text


def test_a_chart_without_redemptions_looks_as_before(staff, make_campaign, clock):
    campaign = sent_friday(make_campaign, clock)

    response = page(staff, campaign)
    html = response.content.decode()

    assert "chart-redeemed" not in html and "canjes en el local" not in page_text(response)
    assert re.findall(r'<rect x="([\d.]+)" y="\d+" width="([\d.]+)"[^>]*class="chart-bar"', html)
