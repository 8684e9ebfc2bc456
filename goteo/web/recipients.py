"""A campaign's recipients: by status, searchable, paginated by id; resolving unknown
messages; and the results as CSV.

Pages are read by keyset (``id`` after or before the last one shown) on the
(campaign, status, id) index, so page 1,000 costs what page 1 does.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, Redemption
from goteo.phones import InvalidPhone, normalize_phone
from goteo.web import base
from goteo.web.campaigns import get_campaign
from goteo.web.paging import page_links

PAGE_SIZE = 50
DELIVERY_LABELS = {
    "sent": gettext_lazy("Recibido por WhatsApp"),
    "delivered": gettext_lazy("Entregado"),
    "read": gettext_lazy("Leído"),
    "failed": gettext_lazy("No entregado"),
}
DECISIONS = {
    "sent": MessageStatus.SENT,
    "failed": MessageStatus.FAILED,
    "resend": MessageStatus.PENDING,
}
LISTED_FIELDS = (
    "id",
    "campaign_id",
    "contact_name",
    "phone",
    "status",
    "skip_reason",
    "rendered_text",
    "attempts",
    "sent_at",
    "delivery_status",
    "delivered_at",
    "read_at",
    "last_error",
)


def search(rows: QuerySet[Message], query: str) -> QuerySet[Message]:
    """A whole phone number is an exact (indexed) match; digits match part of a phone;
    anything else matches the name."""
    try:
        return rows.filter(phone=normalize_phone(query))
    except InvalidPhone:
        pass
    digits = re.sub(r"\D", "", query)
    if digits and len(digits) >= 3 and not re.search(r"[^\d\s+()-]", query):
        return rows.filter(phone__contains=digits)
    return rows.filter(contact_name__icontains=query)


def keyset_page(rows: QuerySet[Message], after: int | None, before: int | None) -> dict[str, Any]:
    """One page of rows by id, with the ids to continue from in either direction."""
    if before is not None:
        found = list(rows.filter(id__lt=before).order_by("-id")[: PAGE_SIZE + 1])
        has_previous = len(found) > PAGE_SIZE
        page = found[:PAGE_SIZE][::-1]
        has_next = True
    else:
        if after is not None:
            rows = rows.filter(id__gt=after)
        found = list(rows.order_by("id")[: PAGE_SIZE + 1])
        has_next = len(found) > PAGE_SIZE
        page = found[:PAGE_SIZE]
        has_previous = after is not None
    return {
        "rows": page,
        "next_after": page[-1].pk if page and has_next else None,
        "previous_before": page[0].pk if page and has_previous else None,
    }


def int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def status_tabs(campaign: Campaign) -> list[tuple[str, Any, int]]:
    counts = campaign.counts()
    tabs: list[tuple[str, Any, int]] = [("", gettext_lazy("Todos"), counts["total"])]
    tabs += [(value, label, counts[value]) for value, label in MessageStatus.choices]
    return tabs


@base.staff_required
@require_GET
def campaign_recipients(request: HttpRequest, pk: int) -> HttpResponse:
    """Who gets the campaign, with the exact text, when it went out and what happened."""
    campaign = get_campaign(pk)
    status = request.GET.get("estado", "")
    query = request.GET.get("q", "").strip()[:100]
    rows: QuerySet[Message] = Message.objects.filter(campaign=campaign).only(*LISTED_FIELDS)
    if status in MessageStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    if query:
        rows = search(rows, query)
    after, before, number = (
        int_param(request, "despues"),
        int_param(request, "antes"),
        int_param(request, "pagina"),
    )
    if number and after is None and before is None:
        page = numbered_page(rows, number)  # a jump to a page by its number
    else:
        page = keyset_page(rows, after, before)
        number = number or (1 if after is None and before is None else None)
    for message in page["rows"]:
        message.delivery_label = DELIVERY_LABELS.get(message.delivery_status, message.delivery_status)
    tabs = status_tabs(campaign)
    base_query = {k: v for k, v in (("estado", status), ("q", query)) if v}
    url = reverse("goteo:campaign_recipients", args=[pk])

    def url_for(**params: Any) -> str:
        return f"{url}?{urlencode(base_query | params)}" if base_query or params else url

    # The counters give the number of pages, but not for a search (that would count rows).
    pages = None if query else max(1, -(-dict((v, n) for v, _label, n in tabs)[status] // PAGE_SIZE))
    previous_url = page["previous_before"] and (
        url_for() if number == 2 else url_for(antes=page["previous_before"], **numbered(number, -1))
    )
    return render(
        request,
        "goteo/campaigns/recipients.html",
        {
            "campaign": campaign,
            "tabs": tabs,
            "status": status,
            "query": query,
            "page": page,
            "next_url": page["next_after"] and url_for(despues=page["next_after"], **numbered(number, 1)),
            "previous_url": previous_url,
            "page_number": number,
            "page_links": page_links(number, pages, lambda n: url_for(pagina=n)) if number and pages else [],
            "can_resend": campaign.status != CampaignStatus.CANCELLED,
        },
    )


def numbered(number: int | None, step: int) -> dict[str, int]:
    """The ``pagina`` label a keyset link carries, when the page's number is known."""
    return {"pagina": number + step} if number else {}


def numbered_page(rows: QuerySet[Message], number: int) -> dict[str, Any]:
    """Page ``number`` (from 1) by its position: what a numbered link asks for."""
    start = (number - 1) * PAGE_SIZE
    found = list(rows.order_by("id")[start : start + PAGE_SIZE + 1])
    page = found[:PAGE_SIZE]
    return {
        "rows": page,
        "next_after": page[-1].pk if page and len(found) > PAGE_SIZE else None,
        "previous_before": page[0].pk if page and number > 1 else None,
    }


@base.staff_required
@require_POST
def campaign_resolve_unknown(request: HttpRequest, pk: int) -> HttpResponse:
    """A person decides what happened to messages whose outcome is unknown.

    Resending asks for confirmation first: the person may receive the message twice.
    """
    campaign = get_campaign(pk)
    decision = DECISIONS.get(request.POST.get("decision", ""))
    ids = [int(i) for i in request.POST.getlist("message") if i.isdigit()]
    chosen = Message.objects.filter(campaign=campaign, pk__in=ids, status=MessageStatus.UNKNOWN)
    back = redirect(f"{reverse('goteo:campaign_recipients', args=[pk])}?estado=unknown")
    if decision is None or not ids:
        messages.error(request, _("Elija al menos un mensaje y una decisión."))
        return back
    if decision == MessageStatus.PENDING:
        if campaign.status == CampaignStatus.CANCELLED:
            messages.error(request, _("La campaña está cancelada; no se puede reenviar."))
            return back
        if request.POST.get("confirm") != "1":
            return render(
                request,
                "goteo/campaigns/confirm_resend.html",
                {"campaign": campaign, "chosen": list(chosen.only(*LISTED_FIELDS))},
            )
    moved = Message.resolve_unknown(chosen, decision, base.now(), base.actor(request))
    base.log.info("campaign %s: %s unknown resolved as %s by %s", pk, moved, decision, base.actor(request))
    labels = {
        MessageStatus.SENT: _("%(n)s mensajes marcados como enviados."),
        MessageStatus.FAILED: _("%(n)s mensajes marcados como fallidos."),
        MessageStatus.PENDING: _("%(n)s mensajes vuelven a la cola para reenviarse."),
    }
    messages.success(request, labels[decision] % {"n": moved})
    return back


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (phone numbers stay as they are)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (text[:1] in ("+", "-") and not text[1:].isdigit()):
        return "'" + text
    return text


class Echo:
    """A file-like object whose ``write`` returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def export_rows(campaign: Campaign) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff"  # so Excel reads the accents right
    yield writer.writerow(
        [
            _("nombre"),
            _("teléfono"),
            _("estado"),
            _("motivo de omisión"),
            _("enviado"),
            _("entrega"),
            _("entregado"),
            _("leído"),
            _("intentos"),
            _("error"),
            _("texto"),
            _("respondió"),
            _("canjeó"),
            _("código"),
        ]
    )
    tz = campaign.sender.tz
    statuses = dict(MessageStatus.choices)

    def when(moment: Any) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    rows = (
        campaign.messages.order_by("id")
        .annotate(redeemed_at=redeemed_at(campaign))
        .values_list(
            "contact_name",
            "phone",
            "status",
            "skip_reason",
            "sent_at",
            "delivery_status",
            "delivered_at",
            "read_at",
            "attempts",
            "last_error",
            "rendered_text",
            "replied_at",
            "redeemed_at",
            "code",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        name, phone, status, skip, sent, delivery, delivered, read, attempts, error, text = row[:11]
        replied, redeemed, code = row[11:]
        yield writer.writerow(
            [
                csv_cell(name),
                csv_cell(phone),
                statuses.get(status, status),
                skip,
                when(sent),
                delivery,
                when(delivered),
                when(read),
                attempts,
                csv_cell(error),
                csv_cell(text),
                when(replied),
                when(redeemed),
                csv_cell(code),
            ]
        )


def redeemed_at(campaign: Campaign) -> Coalesce:
    """When the person redeemed: by their message (their own code), else by their phone in the
    campaign's promotion (a shared code). Read by the database with each row, on the index of
    each: no query per person."""
    by_message = Redemption.objects.filter(message=OuterRef("pk")).order_by("redeemed_at")
    by_phone = Redemption.objects.filter(promotion_id=campaign.promotion_id, phone=OuterRef("phone"))
    return Coalesce(
        Subquery(by_message.values("redeemed_at")[:1]),
        Subquery(by_phone.values("redeemed_at")[:1]),
    )


@base.staff_required
@require_GET
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every message of the campaign and what happened to it, as CSV (streamed)."""
    campaign = get_campaign(pk)
    response = StreamingHttpResponse(export_rows(campaign), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campana-{campaign.pk}.csv"'
    return response
