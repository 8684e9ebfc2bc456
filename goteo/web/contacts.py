"""Contacts: the list and search, a contact's page with their conversation, the form for
their dates and own data, and the opt-out toggle (importing is goteo.web.contact_import)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from goteo.conversation import conversation
from goteo.models import Contact, Tag
from goteo.phones import InvalidPhone, normalize_phone
from goteo.web import base
from goteo.web.forms import AttributeFormSet, ContactDatesForm
from goteo.web.paging import page_links
from goteo.web.recipients import DELIVERY_LABELS

PAGE_SIZE = 50
FILTERS = {
    "baja": Q(opted_out=True),
    "sin-consentimiento": Q(consent=False),
    "activos": Q(consent=True, opted_out=False),
}


@base.staff_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    """Contacts by name, searchable by name or phone, filterable by tag and consent."""
    contacts = Contact.objects.prefetch_related("tags")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        try:
            contacts = contacts.filter(phone=normalize_phone(query))
        except InvalidPhone:
            digits = re.sub(r"\D", "", query)
            if len(digits) >= 3 and not re.search(r"[^\d\s+()-]", query):
                contacts = contacts.filter(phone__contains=digits)
            else:
                contacts = contacts.filter(full_name__icontains=query)
    shown = request.GET.get("filtro", "")
    if shown in FILTERS:
        contacts = contacts.filter(FILTERS[shown])
    tag = request.GET.get("etiqueta", "")
    if tag:
        contacts = contacts.filter(tags__name=tag)
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("pagina"))
    kept = {k: v for k, v in (("q", query), ("filtro", shown), ("etiqueta", tag)) if v}

    def url_for(number: int) -> str:
        return "?" + urlencode(kept | {"pagina": number})

    return render(
        request,
        "goteo/contacts/list.html",
        {
            "page": page,
            "query": query,
            "filter": shown,
            "tag": tag,
            "tags": Tag.objects.values_list("name", flat=True),
            "previous_url": page.has_previous() and url_for(page.previous_page_number()),
            "next_url": page.has_next() and url_for(page.next_page_number()),
            "page_links": page_links(page.number, page.paginator.num_pages, url_for),
        },
    )


def own_data(contact: Contact) -> dict[str, object]:
    """The contact's attributes; nothing if something other than names and values was stored."""
    return contact.attributes if isinstance(contact.attributes, dict) else {}


@base.staff_required
@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person: their details and the conversation, promotions sent and replies, in order."""
    contact = get_object_or_404(Contact.objects.prefetch_related("tags"), pk=pk)
    sent = _("Enviado")
    entries = [(e, DELIVERY_LABELS.get(e.delivery, sent) if e.sent else "") for e in conversation(contact)]
    attributes = sorted(own_data(contact).items(), key=lambda item: item[0].casefold())
    return render(
        request,
        "goteo/contacts/detail.html",
        {"contact": contact, "entries": entries, "attributes": attributes},
    )


@base.staff_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's birth date, last visit and the shop's own data about them, as name/value rows.

    «Agregar otra fila» shows what was typed again with one more empty row, storing nothing;
    «Guardar» stores the dates and replaces the data with the rows kept.
    """
    contact = get_object_or_404(Contact, pk=pk)
    today = timezone.localdate(base.now())
    if request.method == "POST" and request.POST.get("action") == "add":
        posted = AttributeFormSet(request.POST)
        rows = [
            {"name": form["name"].value(), "value": form["value"].value()}
            for form in posted.forms
            if not form["DELETE"].value() and (form["name"].value() or form["value"].value())
        ]
        dates = ContactDatesForm(
            instance=contact,
            today=today,
            initial={name: request.POST.get(name, "") for name in ("birth_date", "last_visit")},
        )
        rows_form = AttributeFormSet(initial=rows)
    elif request.method == "POST":
        dates = ContactDatesForm(request.POST, instance=contact, today=today)
        rows_form = AttributeFormSet(request.POST)
        if dates.is_valid() and rows_form.is_valid():
            contact = dates.save(commit=False)
            contact.attributes = rows_form.attributes()
            contact.save(update_fields=["birth_date", "last_visit", "attributes", "updated_at"])
            base.log.info("contact %s dates and data edited by %s", pk, base.actor(request))
            messages.success(request, _("Datos de %(nombre)s guardados.") % {"nombre": contact.full_name})
            return redirect("goteo:contact_detail", pk=pk)
    else:
        dates = ContactDatesForm(instance=contact, today=today)
        rows_form = AttributeFormSet(
            initial=[{"name": name, "value": str(value)} for name, value in sorted(own_data(contact).items())]
        )
    return render(
        request, "goteo/contacts/edit.html", {"contact": contact, "dates": dates, "rows": rows_form}
    )


@base.staff_required
@require_POST
def contact_opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn promotions off for a person (skipping what is pending for them), or back on."""
    contact = get_object_or_404(Contact, pk=pk)
    source = f"panel:{base.actor(request)}"[:64]
    if request.POST.get("opt_out") == "1":
        skipped = contact.opt_out(source, base.now())
        messages.success(
            request,
            _("%(nombre)s ya no recibirá promociones (%(n)s mensajes pendientes omitidos).")
            % {"nombre": contact.full_name, "n": skipped},
        )
    else:
        contact.opt_in(source, base.now())
        messages.success(
            request, _("%(nombre)s vuelve a recibir promociones.") % {"nombre": contact.full_name}
        )
    base.log.info("contact %s opt-out=%s by %s", pk, contact.opted_out, base.actor(request))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("goteo:contact_list")
