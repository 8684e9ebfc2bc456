"""Connecting a WhatsApp-Web number (Evolution API, WAHA) from the dashboard.

The page shows where the link stands and, while it waits, the QR to scan, refreshed by a
small poll until the number is linked; a pairing code is the alternative for a phone that
cannot scan. Disconnecting asks for confirmation. Every change is a POST with its CSRF
token. A gateway that cannot be reached is said so; nothing is shown as connected unless
the gateway says it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from goteo import health
from goteo.models import Sender
from goteo.phones import InvalidPhone, normalize_phone
from goteo.transports.config import ConfigurationError
from goteo.transports.gateway import GATEWAY_BACKENDS
from goteo.transports.pairing import Pairing, PairingClient, PairingError, pairing_for
from goteo.web import base


class PairingCodeForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Número del teléfono que va a vincular"), max_length=32)

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from exc


def gateway_sender(pk: int) -> Sender:
    """The number, when it is linked through a WhatsApp-Web gateway (else 404)."""
    sender = get_object_or_404(Sender, pk=pk)
    if sender.effective_backend not in GATEWAY_BACKENDS:
        raise Http404("not a WhatsApp-Web gateway")
    return sender


@dataclass(frozen=True)
class Answer:
    """The gateway's answer, or the sentence saying why there is none."""

    pairing: Pairing | None
    error: str = ""
    retry: bool = False  # the gateway did not answer: worth asking again (not goteo's settings)


def ask(sender: Sender, action: Callable[[PairingClient], Pairing]) -> Answer:
    """Run ``action`` against the number's gateway."""
    try:
        with pairing_for(sender) as client:
            pairing = action(client)
    except ConfigurationError as exc:
        return Answer(None, str(exc))
    except PairingError as exc:
        return Answer(None, str(exc), retry=True)
    if pairing.connected != bool((sender.health or {}).get("connected")):
        health.forget(sender)  # the numbers page asks the gateway again
    return Answer(pairing)


def refresh_seconds() -> int:
    return int(getattr(settings, "GOTEO_PAIRING_REFRESH_SECONDS", 4))


def status_context(sender: Sender, answer: Answer) -> dict[str, Any]:
    # A gateway that did not answer is asked again, less often: it may be starting up.
    pairing = answer.pairing
    return {
        "sender": sender,
        "pairing": pairing,
        "error": answer.error,
        "refresh": answer.retry or (pairing is not None and pairing.pending),
        "refresh_seconds": refresh_seconds() * (3 if answer.retry else 1),
    }


def pairing_page(
    request: HttpRequest,
    sender: Sender,
    answer: Answer,
    *,
    form: PairingCodeForm | None = None,
    code: str = "",
    status: int = 200,
) -> HttpResponse:
    context = status_context(sender, answer) | {"form": form or PairingCodeForm(), "code": code}
    return render(request, "goteo/senders/pairing.html", context, status=status)


@base.staff_required
@require_GET
def sender_pairing(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the number's link stands, with the QR while it waits for one."""
    sender = gateway_sender(pk)
    return pairing_page(request, sender, ask(sender, lambda client: client.look()))


@base.staff_required
@require_GET
def sender_pairing_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status block alone, fetched every few seconds while the page waits."""
    sender = gateway_sender(pk)
    answer = ask(sender, lambda client: client.look())
    return render(request, "goteo/senders/_pairing.html", status_context(sender, answer))


@base.staff_required
@require_POST
def sender_pairing_connect(request: HttpRequest, pk: int) -> HttpResponse:
    """Create the session if it is missing and start it; the page then shows its QR."""
    sender = gateway_sender(pk)
    answer = ask(sender, lambda client: client.connect())
    if answer.error:
        messages.error(request, answer.error)
    else:
        base.log.info("sender %s: pairing started by %s", sender.pk, base.actor(request))
    return redirect("goteo:sender_pairing", pk=sender.pk)


@base.staff_required
@require_POST
def sender_pairing_code(request: HttpRequest, pk: int) -> HttpResponse:
    """A code to type on the phone, for a phone that cannot scan the QR."""
    sender = gateway_sender(pk)
    form = PairingCodeForm(request.POST)
    if not form.is_valid():
        return pairing_page(request, sender, ask(sender, lambda client: client.look()), form=form, status=400)
    phone = form.cleaned_data["phone"]
    answer = ask(sender, lambda client: client.request_code(phone))
    code = answer.pairing.code if answer.pairing else ""
    if code:
        base.log.info("sender %s: pairing code requested by %s", sender.pk, base.actor(request))
    return pairing_page(request, sender, answer, form=form, code=code)


@base.staff_required
@require_http_methods(["GET", "POST"])
def sender_pairing_logout(request: HttpRequest, pk: int) -> HttpResponse:
    """Unlink the number from the gateway, after confirmation."""
    sender = gateway_sender(pk)
    if request.method == "GET":
        return render(request, "goteo/senders/confirm_logout.html", {"sender": sender})
    answer = ask(sender, lambda client: client.logout())
    if answer.error:
        messages.error(request, answer.error)
    else:
        health.unlinked(sender, base.now())
        base.log.info("sender %s: unlinked by %s", sender.pk, base.actor(request))
        messages.success(
            request,
            _("«%(nombre)s» quedó desconectado de WhatsApp; no enviará hasta que lo vuelva a conectar.")
            % {"nombre": sender.name},
        )
    return redirect("goteo:sender_pairing", pk=sender.pk)
