"""The results on a 390 px phone: the campaign's funnel and the Resultados page fit, read
in words, and pass axe-core. Skipped like tests/test_browser.py without Chromium or axe-core."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Permission

from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, Redemption
from tests.conftest import BOGOTA
from tests.test_browser import (
    AXE,
    browser,
    clock,
    phone_context,
    screenshot,
    screenshots,
    serious_findings,
    shop,
    sign_in,
)

pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["browser", "clock", "screenshot", "screenshots", "shop"]  # fixtures shared with test_browser


def campaign_with_results(clock) -> Campaign:
    """The seed's campaign, its 20 sent on Friday and what they brought in since."""
    from goteo.launch import campaign_launch
    from goteo.models import Promotion, Sender

    promotion = Promotion.objects.create(
        name="Navidad",
        code="NAVIDAD2026",
        benefit="30% de descuento en Monturas",
        valid_until=datetime(2026, 2, 2).date(),
    )
    campaign = Campaign.objects.create(
        name="Navidad 2026 — monturas y lentes de sol para toda la familia",
        promotion=promotion,
        sender=Sender.objects.get(name="tienda"),
        template="¡Hola {name}! {benefit} con el código {code}",
        daily_limit=20,
    )
    campaign_launch(campaign, clock.now())
    first = list(campaign.messages.order_by("id")[:20])
    Message.move(
        Message.objects.filter(pk__in=[m.pk for m in first]),
        MessageStatus.SENT,
        clock.now(),
        sent_at=clock.now(),
    )
    for message in first[:3]:
        Redemption.objects.create(
            promotion=promotion,
            campaign=campaign,
            message=message,
            phone=message.phone,
            redeemed_at=clock.now(),
            redeemed_by="ana",
        )
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.PAUSED,
        delivered_count=19,
        read_count=14,
        replied_count=6,
        redeemed_count=3,
        opted_out_count=1,
    )
    return campaign


def test_the_results_fit_a_phone_and_pass_axe(browser, live_server, shop, clock, screenshot):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run «npm ci» at the repository's root")
    from django.contrib.auth import get_user_model

    get_user_model().objects.get(username="ana").user_permissions.add(
        Permission.objects.get(codename="view_campaign", content_type__app_label="goteo")
    )
    campaign = campaign_with_results(clock)
    clock.set(datetime(2026, 1, 2, 17, 0, tzinfo=BOGOTA))
    context = phone_context(browser, live_server, bypass_csp=True)  # axe is a script of its own
    phone = context.new_page()
    sign_in(phone)
    findings = {}
    for name, url in (
        ("campaign_results_phone", f"/dashboard/promociones/campanas/{campaign.pk}/"),
        ("results_phone", "/dashboard/promociones/resultados/"),
    ):
        phone.goto(url)
        wide = phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{url} is {wide}px wide on a 390px phone"
        findings[name] = serious_findings(phone)
        screenshot(phone, f"{name}.png")
        if name == "results_phone":
            # The cell's name comes with it once the table reflows into one card per campaign.
            cell = phone.locator(".result-redeemed")
            assert cell.inner_text() == "15 % (3)" and cell.get_attribute("data-label") == "Canjearon"
            assert cell.is_visible()
        else:
            assert phone.get_by_text("Entregados 19 · 95 %").is_visible()
    context.close()

    assert {name: found for name, found in findings.items() if found} == {}
