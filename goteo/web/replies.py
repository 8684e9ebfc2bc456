"""The "Respuestas" inbox: what people wrote back, for every campaign or one, and "atendida".

Only messages tied to a phone are listed (the others wait in "Mensajes sin identificar").
An opt-out is shown as one, handled by applying it, never as a lead to follow up.
The list refreshes itself every few seconds (goteo.js fetches ``?bloque=1``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from goteo.attribution import window
from goteo.models import Campaign, InboundMessage
from goteo.web import base
from goteo.web.campaigns import refresh_seconds
from goteo.web.paging import page_links

PAGE_SIZE = 25
ALL = "todas"  # the filter that shows handled replies too; the default shows the waiting ones


def inbox(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    """The inbox page, or only its live block when goteo.js asks for it (``bloque=1``)."""
    show = ALL if request.GET.get("ver") == ALL else ""
    rows: QuerySet[InboundMessage] = InboundMessage.replies().select_related("contact", "campaign")
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    if not show:
        rows = rows.filter(handled_at__isnull=True)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("pagina"))
    here = reverse("goteo:campaign_replies", args=[campaign.pk]) if campaign else reverse("goteo:reply_list")
    kept = {"ver": show} if show else {}

    def url_for(number: int, **extra: str) -> str:
        params = kept | ({"pagina": str(number)} if number > 1 else {}) | extra
        return f"{here}?{urlencode(params)}" if params else here

    context: dict[str, Any] = {
        "campaign": campaign,
        "show": show,
        "page": page,
        "here": here,
        "back": url_for(page.number),
        "refresh_url": url_for(page.number, bloque="1"),
        "refresh_seconds": refresh_seconds(),
        "reply_window_days": window().days,
        "previous_url": page.has_previous() and url_for(page.previous_page_number()),
        "next_url": page.has_next() and url_for(page.next_page_number()),
        "page_links": page_links(page.number, page.paginator.num_pages, url_for),
    }
    if request.GET.get("bloque") == "1":
        return render(request, "goteo/replies/_live.html", context)
    return render(request, "goteo/replies/list.html", context)


@base.staff_required
@require_GET
def reply_list(request: HttpRequest) -> HttpResponse:
    """Replies to every campaign (and messages from known people that answer none)."""
    return inbox(request, None)


@base.staff_required
@require_GET
def campaign_replies(request: HttpRequest, pk: int) -> HttpResponse:
    """Replies to one campaign."""
    campaign = get_object_or_404(Campaign, pk=pk)
    return inbox(request, campaign)


@base.staff_required
@require_POST
def reply_handled(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a reply "atendida" (who and when are kept) or back to waiting."""
    reply = get_object_or_404(InboundMessage.replies(), pk=pk, is_opt_out=False)
    who = base.actor(request)
    if request.POST.get("atendida") == "1":
        reply.mark_handled(f"panel:{who}", base.now())
        messages.success(request, _("Respuesta marcada como atendida."))
        base.log.info("reply %s marked handled by %s", pk, who)
    else:
        reply.mark_unhandled()
        messages.success(request, _("Respuesta marcada sin atender."))
        base.log.info("reply %s marked unhandled by %s", pk, who)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("goteo:reply_list")
