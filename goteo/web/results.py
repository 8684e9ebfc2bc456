"""The "Resultados" page: past campaigns side by side, by what each brought in.

Every figure is a counter on the campaign row (goteo.funnel), so a page of campaigns is one
query however many messages they sent.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from goteo.funnel import rate
from goteo.models import Campaign
from goteo.web import base
from goteo.web.paging import page_links

PAGE_SIZE = 25
# Seeing campaigns is what the page shows; the roles give it to the owner and the counter staff.


def comparison(campaign: Campaign) -> dict[str, Any]:
    """One campaign's row: those sent, and each result as a share of them."""
    sent = campaign.sent_count
    return {
        "campaign": campaign,
        "sent": sent,
        "delivered": campaign.delivered_count,
        "delivered_rate": rate(campaign.delivered_count, sent),
        "replied": campaign.replied_count,
        "reply_rate": rate(campaign.replied_count, sent),
        "redeemed": campaign.redeemed_count,
        "redemption_rate": rate(campaign.redeemed_count, sent),
        "opted_out": campaign.opted_out_count,
        "opt_out_rate": rate(campaign.opted_out_count, sent),
    }


@base.staff_required
def results(request: HttpRequest) -> HttpResponse:
    """Every campaign that started for real, newest first: sent, replies, redemptions, opt-outs."""
    # A simulation reached nobody, and a draft has sent nothing: neither has results to compare.
    campaigns = Campaign.objects.filter(started_at__isnull=False, simulation=False).select_related(
        "promotion"
    )
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("pagina"))

    def url_for(number: int) -> str:
        return "?" + urlencode({"pagina": number})

    rows = [comparison(campaign) for campaign in page.object_list]
    return render(
        request,
        "goteo/campaigns/results.html",
        {
            "rows": rows,
            "unsent": any(not row["sent"] for row in rows),
            "page": page,
            "previous_url": page.has_previous() and url_for(page.previous_page_number()),
            "next_url": page.has_next() and url_for(page.next_page_number()),
            "page_links": page_links(page.number, page.paginator.num_pages, url_for),
        },
    )
