"""Messages goteo could not tie to a person: the list, and matching one to a contact."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from goteo import inbound
from goteo.models import Contact, InboundMessage
from goteo.phones import InvalidPhone, normalize_phone
from goteo.web import base

SHOWN = 100


@base.staff_required
@require_GET
def inbound_list(request: HttpRequest) -> HttpResponse:
    """Unidentified messages, opt-outs first, newest first."""
    pending = InboundMessage.unidentified().select_related("sender")
    shown = list(pending.order_by("-is_opt_out", "-received_at", "-id")[:SHOWN])
    return render(request, "goteo/inbound/list.html", {"items": shown, "total": pending.count()})


def find_contact(query: str) -> tuple[Contact | None, str]:
    """The contact a person means by a phone or a name; else why not, in words."""
    query = query.strip()[:200]
    if not query:
        return None, _("Escriba el teléfono o el nombre del contacto.")
    try:
        phone = normalize_phone(query)
    except InvalidPhone:
        found = list(Contact.objects.filter(full_name__icontains=query).exclude(phone="")[:2])
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, _("Hay varios contactos con «%(q)s»; escriba el teléfono.") % {"q": query}
        return None, _("Ningún contacto con teléfono se llama «%(q)s».") % {"q": query}
    contact = Contact.objects.filter(phone=phone).first()
    if contact is None:
        return None, _("Ningún contacto tiene el teléfono %(phone)s.") % {"phone": phone}
    return contact, ""


@base.staff_required
@require_POST
def inbound_match(request: HttpRequest, pk: int) -> HttpResponse:
    """Tie a message to a contact (an opt-out then applies), or mark it as looked at."""
    message = get_object_or_404(InboundMessage, pk=pk, phone="", handled_at__isnull=True)
    who = f"panel:{base.actor(request)}"
    if request.POST.get("action") == "dismiss":
        inbound.dismiss(message, who, base.now())
        messages.success(request, _("Mensaje marcado como revisado."))
        base.log.info("inbound %s dismissed by %s", pk, base.actor(request))
        return redirect("goteo:inbound_list")
    contact, error = find_contact(request.POST.get("contact", ""))
    if contact is None:
        messages.error(request, error)
        return redirect("goteo:inbound_list")
    inbound.match(message, contact, who, base.now())
    base.log.info("inbound %s matched to contact %s by %s", pk, contact.pk, base.actor(request))
    if message.is_opt_out:
        text = _("%(nombre)s quedó dado de baja: no recibirá más promociones.")
    else:
        text = _("Mensaje asignado a %(nombre)s.")
    messages.success(request, text % {"nombre": contact.full_name})
    return redirect("goteo:inbound_list")
