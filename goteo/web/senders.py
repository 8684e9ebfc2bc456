"""The WhatsApp numbers: their connection state, and adding or editing them.

Credentials are write-only: the form never shows a stored secret, and a blank secret
field keeps the stored one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from goteo import health
from goteo.brakes import braked_until_text, lift, paused_by_brake
from goteo.models import Sender
from goteo.simulation import sender_simulates
from goteo.transports.gateway import GATEWAY_BACKENDS
from goteo.web import base
from goteo.web.campaigns import sender_standing
from goteo.web.forms import SenderForm


def sender_row(sender: Sender, now: datetime) -> dict[str, Any]:
    """One number's line on the numbers page: its connection, brake and standing at ``now``."""
    status = health.sender_status(sender, now)
    return {
        "sender": sender,
        "connected": status.connected,
        "unreachable": status.unreachable,
        "simulation": sender_simulates(sender),
        "detail": status.detail,
        "quality": str(status.extra.get("quality_rating") or ""),
        "brake": health.brake_note(sender, now),
        "checked_at": (sender.health or {}).get("checked_at", ""),
        "gateway": sender.effective_backend in GATEWAY_BACKENDS,
    } | sender_standing(sender, now)


@base.staff_required
@require_GET
def sender_list(request: HttpRequest) -> HttpResponse:
    """Every number with its provider, daily cap and connection (checked a few minutes ago at most)."""
    now = base.now()
    rows = [sender_row(sender, now) for sender in Sender.objects.all()]
    return render(request, "goteo/senders/list.html", {"rows": rows})


def sender_form_page(request: HttpRequest, sender: Sender | None) -> HttpResponse:
    form = SenderForm(request.POST or None, instance=sender)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        health.forget(saved)
        base.log.info("sender %s saved by %s", saved.pk, base.actor(request))
        messages.success(request, _("Número «%(nombre)s» guardado.") % {"nombre": saved.name})
        return redirect("goteo:sender_list")
    return render(request, "goteo/senders/form.html", {"form": form, "sender": sender})


@base.staff_required
@require_http_methods(["GET", "POST"])
def sender_new(request: HttpRequest) -> HttpResponse:
    return sender_form_page(request, None)


@base.staff_required
@require_http_methods(["GET", "POST"])
def sender_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return sender_form_page(request, get_object_or_404(Sender, pk=pk))


@base.staff_required
@require_POST
def sender_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the provider now instead of using the remembered answer."""
    sender = get_object_or_404(Sender, pk=pk)
    status = health.sender_status(sender, base.now(), use_cache=False)
    if status.connected:
        messages.success(
            request,
            _("«%(nombre)s» está conectado: %(detalle)s") % {"nombre": sender.name, "detalle": status.detail},
        )
    else:
        messages.error(
            request,
            _("«%(nombre)s» no puede enviar: %(detalle)s")
            % {"nombre": sender.name, "detalle": status.detail},
        )
    return redirect("goteo:sender_list")


@base.staff_required
@require_http_methods(["GET", "POST"])
def sender_unbrake(request: HttpRequest, pk: int) -> HttpResponse:
    """Lift a number's brake after confirmation; who and when go to its brake log."""
    sender = get_object_or_404(Sender, pk=pk)
    now = base.now()
    if not sender.is_braked(now):
        messages.info(request, _("«%(nombre)s» no está frenado.") % {"nombre": sender.name})
        return redirect("goteo:sender_list")
    if request.method == "GET":
        context = {"sender": sender, "until": braked_until_text(sender), "paused": paused_by_brake(sender)}
        return render(request, "goteo/senders/confirm_unbrake.html", context)
    if not lift(sender, base.actor(request), now):
        messages.error(request, _("El freno cambió mientras tanto; revise el número y vuelva a intentarlo."))
        return redirect("goteo:sender_list")
    text = _("Freno levantado: «%(nombre)s» puede volver a enviar.") % {"nombre": sender.name}
    if paused_by_brake(sender):
        text += " " + _("Sus campañas pausadas siguen en pausa: reanude cada una con su botón «Reanudar».")
    messages.success(request, text)
    return redirect("goteo:sender_list")
