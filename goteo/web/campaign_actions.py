"""Steering a campaign: launch, pause, resume, cancel, retry failed and send a test message.

Every change is a POST with its CSRF token; cancelling asks for confirmation first.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from goteo import automations
from goteo.brakes import resume_warning
from goteo.codes import example_code
from goteo.content import Content, trial_outgoing
from goteo.launch import LaunchError
from goteo.models import Campaign, CampaignStatus, Sender
from goteo.schedule import describe_start
from goteo.scheduling import campaign_schedule
from goteo.templating import TemplateError
from goteo.transports import ConfigurationError, OutgoingMessage, SendError, transport_for
from goteo.web import base
from goteo.web.campaigns import get_campaign
from goteo.web.forms import TestMessageForm


def back(pk: int) -> HttpResponse:
    return redirect("goteo:campaign_detail", pk=pk)


@base.staff_required
@require_POST
def campaign_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Launch a draft (one message per person, then it sends), or schedule it for its start."""
    return start_or_schedule(request, get_campaign(pk))


def start_or_schedule(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """Launch the campaign now, or leave it «Programada» until its start; say which."""
    now = base.now()
    if campaign.is_automation:
        return start_automation(request, campaign)
    try:
        result = campaign_schedule(campaign, now, simulate=bool(request.POST.get("simulate")))
    except (LaunchError, TemplateError) as exc:
        messages.error(request, str(exc))
        return back(campaign.pk)
    if result is None:
        assert campaign.start_at is not None
        base.log.info("campaign %s scheduled by %s", campaign.pk, base.actor(request))
        messages.success(
            request,
            _("Campaña programada: empieza %(cuando)s. Hasta entonces no se envía nada.")
            % {"cuando": describe_start(campaign.start_at, now, campaign.sender.tz)},
        )
        return back(campaign.pk)
    base.log.info("campaign %s launched by %s", campaign.pk, base.actor(request))
    messages.success(
        request,
        _("Campaña iniciada: %(pendientes)s mensajes por enviar, %(omitidos)s omitidos.")
        % {"pendientes": result.pending, "omitidos": sum(result.skipped.values())},
    )
    for warning in result.warnings:
        messages.warning(request, warning)
    return back(campaign.pk)


def start_automation(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """Start an automation: it enrolls whoever is due today, and from then on each run."""
    try:
        result = automations.start_automation(
            campaign, base.now(), simulate=bool(request.POST.get("simulate"))
        )
    except (LaunchError, TemplateError) as exc:
        messages.error(request, str(exc))
        return back(campaign.pk)
    base.log.info("automation %s started by %s", campaign.pk, base.actor(request))
    messages.success(
        request,
        _(
            "Automatización iniciada: hoy se inscribieron %(pendientes)s personas y se omitieron "
            "%(omitidos)s. Desde ahora inscribe sola a quien le llegue su fecha."
        )
        % {"pendientes": result.pending, "omitidos": sum(result.skipped.values())},
    )
    for warning in result.warnings:
        messages.warning(request, warning)
    return back(campaign.pk)


def said(campaign: Campaign, for_campaign: str, for_automation: str) -> str:
    """The campaign's words, or an automation's."""
    return for_automation if campaign.is_automation else for_campaign


@base.staff_required
@require_POST
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop sending for now; pending messages wait."""
    campaign = get_campaign(pk)
    reason = _("Pausada por %(persona)s desde el panel") % {"persona": base.actor(request)}
    if campaign.pause(reason=reason):
        base.log.info("campaign %s paused by %s", pk, base.actor(request))
        messages.success(
            request,
            said(
                campaign,
                _("Campaña pausada. Los mensajes pendientes esperan."),
                _("Automatización pausada: no inscribe ni envía; los mensajes pendientes esperan."),
            ),
        )
    else:
        messages.error(
            request,
            said(
                campaign,
                _("Solo se puede pausar una campaña en progreso."),
                _("Solo se puede pausar una automatización activa."),
            ),
        )
    return back(pk)


@base.staff_required
@require_POST
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again after a pause."""
    campaign = get_campaign(pk)
    how = _("levántelo con el botón «Levantar freno» del número, en Números de WhatsApp")
    warning = resume_warning(campaign.sender, base.now(), how=how)
    if warning:
        messages.warning(request, warning)
    if campaign.resume():
        base.log.info("campaign %s resumed by %s", pk, base.actor(request))
        messages.success(request, said(campaign, _("Campaña reanudada."), _("Automatización reanudada.")))
    else:
        messages.error(
            request,
            said(
                campaign,
                _("Solo se puede reanudar una campaña pausada."),
                _("Solo se puede reanudar una automatización pausada."),
            ),
        )
    return back(pk)


@base.staff_required
@require_http_methods(["GET", "POST"])
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop for good after confirmation: every pending message becomes skipped."""
    campaign = get_campaign(pk)
    closed = campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
    if request.method == "GET" or closed:
        if closed:
            messages.error(
                request,
                said(
                    campaign,
                    _("La campaña ya terminó; no hay nada que cancelar."),
                    _("La automatización ya está detenida; no hay nada que detener."),
                ),
            )
            return back(pk)
        return render(request, "goteo/campaigns/confirm_cancel.html", {"campaign": campaign})
    skipped = campaign.cancel(base.now(), by=base.actor(request))
    base.log.info("campaign %s cancelled by %s (%s skipped)", pk, base.actor(request), skipped)
    messages.success(
        request,
        said(
            campaign,
            _("Campaña cancelada: %(n)s mensajes pendientes quedaron omitidos."),
            _(
                "Automatización detenida: no inscribirá a nadie más y %(n)s mensajes pendientes quedaron omitidos."
            ),
        )
        % {"n": skipped},
    )
    return back(pk)


@base.staff_required
@require_POST
def campaign_retry_failed(request: HttpRequest, pk: int) -> HttpResponse:
    """Give failed messages another round of attempts (never to people who opted out)."""
    campaign = get_campaign(pk)
    if campaign.status == CampaignStatus.CANCELLED:
        messages.error(request, _("La campaña está cancelada; no se reintenta nada."))
        return back(pk)
    n = campaign.requeue_failed(base.now(), by=base.actor(request))
    base.log.info("campaign %s: %s failed requeued by %s", pk, n, base.actor(request))
    messages.success(request, _("%(n)s mensajes fallidos vuelven a la cola.") % {"n": n})
    return back(pk)


@base.staff_required
@require_http_methods(["GET", "POST"])
def campaign_test_message(request: HttpRequest, pk: int) -> HttpResponse:
    """Send one test message to a given number now, with the campaign's sender."""
    campaign = get_campaign(pk)
    name = _("Cliente de prueba")
    result: dict[str, str] = {}
    if request.method == "POST":
        form = TestMessageForm(request.POST)
        if form.is_valid():
            outgoing = trial_outgoing(
                campaign,
                name=name,
                phone=form.cleaned_data["phone"],
                text=form.cleaned_data["text"],
                message_id=f"prueba-{uuid.uuid4()}",
            )
            result = send_test(campaign.sender, outgoing)
            base.log.info("test message for campaign %s sent by %s: %s", pk, base.actor(request), result)
    else:
        try:
            own = example_code(campaign.promotion.code, str(name)) if campaign.unique_codes else ""
            text = Content.of(campaign).text(name, seed=0, code=own)
        except (TemplateError, KeyError):
            text = campaign.template
        form = TestMessageForm(initial={"text": text})
    return render(
        request, "goteo/campaigns/test_message.html", {"campaign": campaign, "form": form, "result": result}
    )


def send_test(sender: Sender, outgoing: OutgoingMessage) -> dict[str, str]:
    """Send through the sender's transport; the provider's answer or its error, in words."""
    try:
        transport = transport_for(sender)
    except ConfigurationError as exc:
        return {"ok": "", "detail": str(exc)}
    try:
        provider_id = transport.send(outgoing)
    except SendError as exc:
        return {"ok": "", "detail": str(exc), "kind": exc.kind}
    finally:
        transport.close()
    # A number in test mode only prints it: said as such, never "sent" (goteo.simulation).
    return {"ok": "1", "detail": provider_id, "simulated": "1" if transport.simulates else ""}
