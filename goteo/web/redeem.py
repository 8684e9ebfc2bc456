"""The counter's "Canjear" page: find the customer by code or phone, then mark it redeemed."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from goteo.redemptions import (
    Redeemable,
    RedemptionRefused,
    find_by_code,
    find_by_phone,
    promotions_sent_to,
)
from goteo.web import base

_LETTER = re.compile(r"[^\W\d_]")


def is_phone(query: str) -> bool:
    """A code always has letters; a phone has none."""
    return not _LETTER.search(query)


def look_up(data: QueryDict) -> dict[str, Any]:
    """What the page shows for the query ``q`` (and ``promocion``, after a phone)."""
    query = data.get("q", "").strip()[:80]
    chosen = data.get("promocion", "").strip()[:64]
    found: dict[str, Any] = {"q": query, "promocion": chosen, "item": None, "choices": [], "error": ""}
    if not query:
        return found
    try:
        if not is_phone(query):
            found["item"] = find_by_code(query)
        elif chosen:
            found["item"] = find_by_phone(query, chosen)
        else:
            promotions = promotions_sent_to(query)
            if not promotions:
                found["error"] = _("A ese número no se le envió ninguna promoción.")
            elif len(promotions) == 1:
                found["item"] = find_by_phone(query, promotions[0].code)
                found["promocion"] = promotions[0].code
            else:
                found["choices"] = promotions
    except RedemptionRefused as exc:
        found["error"] = str(exc)
    return found


def state(item: Redeemable | None) -> dict[str, Any]:
    """Whether it may be redeemed now, and what to say when it may not."""
    if item is None:
        return {}
    now = base.now()
    return {
        "already": item.already_text() if item.previous is not None else "",
        "expired": item.is_expired(now) and item.previous is None,
    }


@base.staff_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest) -> HttpResponse:
    """GET: look the customer up. POST: mark the promotion redeemed (then back to an empty page)."""
    data = request.POST if request.method == "POST" else request.GET
    found = look_up(data)
    item: Redeemable | None = found["item"]
    reason = data.get("motivo", "").strip()[:500]
    if request.method == "POST" and item is not None:
        try:
            item.redeem(base.now(), base.actor(request), reason)
        except RedemptionRefused as exc:
            found["error"] = str(exc)
            if exc.reason == "expired":
                found["reason_missing"] = True
        else:
            messages.success(
                request,
                _("Canjeado: %(promo)s para %(nombre)s.")
                % {"promo": item.promotion.benefit, "nombre": item.name},
            )
            return redirect("goteo:redeem")
    found.update(state(item))
    found["reason"] = reason
    found["phone_query"] = is_phone(found["q"]) if found["q"] else False
    found["choice_urls"] = [
        (promotion, reverse("goteo:redeem") + "?" + urlencode({"q": found["q"], "promocion": promotion.code}))
        for promotion in found["choices"]
    ]
    status = 200 if not found["error"] or request.method == "GET" else 409
    return render(request, "goteo/redeem/page.html", found, status=status)
