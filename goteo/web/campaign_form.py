"""Writing a campaign: the form, its live preview, and launching or keeping it as a draft."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from goteo.audience import AudienceError, audience, reachable_count, sendable
from goteo.codes import example_code
from goteo.content import Content
from goteo.forecast import draft_forecast, draft_waiting, expiry_warning
from goteo.media import attach_media
from goteo.models import Campaign, CampaignStatus, Contact, Promotion, Sender
from goteo.models.campaigns import RECOMMENDED_DAILY_LIMIT
from goteo.scheduling import unschedule
from goteo.templating import PLACEHOLDERS, message_seed
from goteo.web import base
from goteo.web.campaign_actions import start_or_schedule
from goteo.web.campaigns import get_campaign, media_shown
from goteo.web.formatting import day_text, number
from goteo.web.forms import AutomationForm, CampaignForm

SAMPLE_NAME = "Daniel Osorio"
VARIATIONS = 3


def audience_contacts(spec: str, now: datetime, sender: Sender | None = None) -> QuerySet[Contact]:
    try:
        return audience(Campaign(audience=spec or "all", sender=sender), now=now)
    except AudienceError:
        return Contact.objects.none()


def preview(form: CampaignForm, now: datetime) -> dict[str, Any]:
    """What the campaign would send and when it would finish, from the form as it stands."""
    if not form.is_bound:
        form = type(form)(initial_data(form), instance=form.instance)
    form.is_valid()
    data = form.cleaned_data
    people = audience_contacts(
        data.get("audience") or form.data.get("audience", "all"), now, data.get("sender")
    )
    contacts = sendable(people)
    count = reachable_count(people)
    sample = contacts.order_by("id").values_list("full_name", flat=True).first() or SAMPLE_NAME
    code, benefit, valid_until = form.promotion_values()
    automation = isinstance(form, AutomationForm)
    result: dict[str, Any] = {
        "count": count,
        "sample": sample,
        "texts": [],
        "error": "",
        "automation": automation,
    }
    if "template" in data:
        # The same content the launch stores on each message: emoji and opt-out text included.
        draft = Campaign(
            template=data["template"],
            emojis=form.data.get("emojis", ""),
            opt_out_footer=data.get("opt_out_footer", False),
        )
        # A stand-in promotion: the form may not have its date yet.
        content = replace(Content.of(draft, Promotion(code=code, benefit=benefit)), valid_until=valid_until)
        unique = bool(data.get("unique_codes"))
        result["texts"] = [
            content.text(sample, message_seed(0, key), example_code(code, key) if unique else "")
            for key in (f"{sample}:{i}" for i in range(VARIATIONS))
        ]
    else:
        result["error"] = " ".join(str(e) for e in form.errors.get("template", [])) or _(
            "Escriba la plantilla para ver la vista previa."
        )
    limit = data.get("daily_limit")
    if limit and limit > RECOMMENDED_DAILY_LIMIT:
        result["limit_warning"] = _(
            "Límite diario de %(limite)s: no se recomienda pasar de %(recomendado)s al día para "
            "evitar el bloqueo del número."
        ) % {"limite": limit, "recomendado": RECOMMENDED_DAILY_LIMIT}
    result["legal_notices"] = legal_notices(data)
    if not automation:  # an automation never finishes: each person gets it on their day
        result.update(forecast(form, people, count, valid_until, now))
    return result


def legal_notices(data: dict[str, Any]) -> list[str]:
    """What the legal profile narrows in the window and days as filled in (e.g. Saturdays)."""
    if any(data.get(name) in (None, "") for name in ("window_start", "window_end", "send_days")):
        return []
    draft = Campaign(
        window_start=data["window_start"], window_end=data["window_end"], send_days=data["send_days"]
    )
    return [str(notice) for notice in draft.legal_notices()]


def initial_data(form: CampaignForm) -> dict[str, Any]:
    """An unbound form's initial values as submitted data, to preview what is shown."""
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if hasattr(value, "strftime"):
            value = value.strftime("%H:%M" if name.startswith("window") else "%Y-%m-%d")
        data[name] = value if isinstance(value, list) else str(value) if value is not True else "on"
    return data


def forecast(
    form: CampaignForm, people: QuerySet[Contact], count: int, valid_until: date | None, now: datetime
) -> dict[str, str]:
    """``terminará el jueves 8 de enero``, and a warning when that is after the expiry."""
    data = form.cleaned_data
    needed = ("sender", "daily_limit", "delay_seconds", "window_start", "window_end", "send_days")
    if count == 0 or any(data.get(name) in (None, "") for name in needed):
        return {}
    draft = Campaign(
        sender=data["sender"],
        promotion=Promotion(valid_until=valid_until or date.max),
        daily_limit=data["daily_limit"],
        delay_seconds=data["delay_seconds"],
        window_start=data["window_start"],
        window_end=data["window_end"],
        send_days=data["send_days"],
        skip_holidays=data.get("skip_holidays", False),
    )
    if draft.window_start >= draft.window_end:
        return {}
    finish = draft_forecast(draft, count, now, draft_waiting(draft, people, now))
    out: dict[str, str] = {}
    if finish is not None:
        show_year = finish.year != now.date().year
        out["forecast"] = _("Con %(n)s personas terminará el %(dia)s.") % {
            "n": number(count),
            "dia": day_text(finish, year=show_year),
        }
    else:
        out["forecast"] = _("Con estas reglas no terminaría nunca.")
    warning = expiry_warning(finish, valid_until, finish_said=True)
    if warning:
        out["expiry_warning"] = warning
    return out


def form_class(campaign: Campaign | None, automation: bool = False) -> type[CampaignForm]:
    """The automation's form for an automation (or a new one), else the campaign's."""
    return AutomationForm if automation or (campaign is not None and campaign.is_automation) else CampaignForm


def new_form(request: HttpRequest, campaign: Campaign | None, automation: bool = False) -> CampaignForm:
    kind = form_class(campaign, automation)
    if request.method == "POST":
        return kind(request.POST, request.FILES, instance=campaign)
    initial = {}
    if campaign is None:
        if not Sender.objects.filter(is_active=True).exists():
            Sender.get_default()
        initial["sender"] = Sender.objects.filter(is_active=True).values_list("pk", flat=True).first()
    return kind(instance=campaign, initial=initial)


def campaign_form_page(
    request: HttpRequest, campaign: Campaign | None, automation: bool = False
) -> HttpResponse:
    now = base.now()
    form = new_form(request, campaign, automation)
    wants = request.POST.get("action", "")
    if request.method == "POST" and wants in ("save", "launch") and form.is_valid():
        with transaction.atomic():
            campaign = form.save(now=now, actor=base.actor(request))
            upload = form.cleaned_data.get("media_file")
            if upload:  # checked by the form against the number's provider
                attach_media(campaign, upload, upload.name)
        if form.promotion_note:
            messages.info(request, form.promotion_note)
        if wants == "save" and campaign.status == CampaignStatus.SCHEDULED:
            if campaign.start_at is None:
                unschedule(campaign)
                messages.success(request, _("Sin fecha de comienzo: vuelve a ser un borrador."))
            else:
                messages.success(request, _("Cambios guardados; sigue programada."))
            return redirect("goteo:campaign_detail", pk=campaign.pk)
        if wants == "save":
            messages.success(request, _("Borrador guardado. Puede iniciarlo cuando quiera."))
            return redirect("goteo:campaign_detail", pk=campaign.pk)
        return start_or_schedule(request, campaign)
    return render(
        request,
        "goteo/campaigns/form.html",
        {
            "form": form,
            "campaign": campaign,
            "preview": preview(form, now),
            "placeholders": placeholder_buttons(),
            "media": media_shown(campaign),
            "automation": isinstance(form, AutomationForm),
        },
    )


def placeholder_buttons() -> list[tuple[str, str]]:
    """(what a button inserts, its label) for each placeholder, next to the template box."""
    labels = {
        "nombre": _("Nombre"),
        "nombre_completo": _("Nombre completo"),
        "codigo": _("Código"),
        "beneficio": _("Beneficio"),
        "valido_hasta": _("Válido hasta"),
    }
    return [("{" + name + "}", labels[name]) for name in PLACEHOLDERS]


@base.staff_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    """A new campaign, launched at once or kept as a draft."""
    return campaign_form_page(request, None)


@base.staff_required
@require_http_methods(["GET", "POST"])
def automation_new(request: HttpRequest) -> HttpResponse:
    """A new automation: the campaign's form, with when each person gets it."""
    return campaign_form_page(request, None, automation=True)


@base.staff_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft or a scheduled campaign; launched ones keep the rules they were launched with."""
    campaign = get_campaign(pk)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        messages.error(request, _("Solo se pueden editar los borradores y las campañas programadas."))
        return redirect("goteo:campaign_detail", pk=pk)
    return campaign_form_page(request, campaign)


@base.staff_required
@require_POST
def campaign_preview(request: HttpRequest) -> HttpResponse:
    """The preview block alone, for the form's live refresh while typing."""
    pk = request.POST.get("campaign")
    campaign = get_campaign(int(pk)) if pk and pk.isdigit() else None
    form = form_class(campaign, bool(request.POST.get("automation")))(request.POST, instance=campaign)
    return render(request, "goteo/campaigns/_preview.html", {"preview": preview(form, base.now())})
