"""Segments: saved audiences by rules, with how many contacts each names today and how many
of them may receive; created, edited and deleted without typing JSON (goteo.web.forms.segment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from goteo.audience import reachable_count
from goteo.models import Contact, Segment, Sender
from goteo.rules import describe_rule, rules_query
from goteo.web import base
from goteo.web.forms.segment import KINDS, UNIT_CHOICES, SegmentForm


@dataclass(frozen=True)
class Count:
    """How many contacts the rules name today, and how many of them may receive (one per phone)."""

    contacts: int
    reachable: int


def shop_today(now: datetime) -> date:
    """The day relative rules count from on these pages: the sending number's day, as a
    campaign's launch counts it (the first active number; the site's zone without one)."""
    sender = Sender.objects.filter(is_active=True).order_by("pk").first()
    return sender.local_day(now) if sender else timezone.localdate(now)


def count(rules: list[dict[str, object]], today: date) -> Count:
    people = Contact.objects.filter(rules_query(rules, today)).distinct()
    return Count(people.count(), reachable_count(people))


def in_use_text(names: list[str]) -> str:
    return ", ".join(f"«{name}»" for name in names)


@base.staff_required
@require_http_methods(["GET"])
def segment_list(request: HttpRequest) -> HttpResponse:
    """Every segment with its rules in words and its count today."""
    today = shop_today(base.now())
    rows = [
        {
            "segment": segment,
            "rules": [describe_rule(rule) for rule in segment.rules],
            "count": count(segment.rules, today),
            "used_by": list(segment.campaigns_using().values_list("name", flat=True)),
        }
        for segment in Segment.objects.all()
    ]
    return render(request, "goteo/segments/list.html", {"rows": rows})


def segment_form_page(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    if request.method == "POST":
        form = SegmentForm.posted(request.POST)
    elif segment is not None:
        form = SegmentForm.of(segment.name, segment.rules)
    else:
        form = SegmentForm()
        form.add_row()
    action = request.POST.get("action", "")
    valid = form.is_valid()
    show_errors = request.method == "POST" and action in ("count", "save")
    if action != "save":  # a row just added is not wrong yet
        for row in form.rows:
            row.error = "" if row.blank else row.error
    if action == "add" and not form.add_row():
        messages.error(
            request, _("Un segmento puede tener como máximo %(n)s reglas.") % {"n": len(form.rows)}
        )
    if action == "save" and valid:
        saved = save_segment(request, segment, form)
        if saved is not None:
            return redirect("goteo:segment_list")
    shown = count(form.rules, shop_today(base.now())) if form.countable else None
    return render(
        request,
        "goteo/segments/form.html",
        {
            "segment": segment,
            "form": form,
            "show_errors": show_errors,
            "count": shown,
            "kinds": [(key, label) for key, (_field, _op, label) in KINDS.items()],
            "units": UNIT_CHOICES,
        },
    )


def save_segment(request: HttpRequest, segment: Segment | None, form: SegmentForm) -> Segment | None:
    """Save the checked form, or say why not: a name taken, or a rename that would leave
    campaigns naming a segment that no longer exists."""
    if segment is not None and form.name != segment.name:
        using = list(segment.campaigns_using().values_list("name", flat=True))
        if using:
            form.name_error = _(
                "No se puede cambiar el nombre: lo usan las campañas %(campanas)s. "
                "Termínelas o cámbielas de audiencia primero."
            ) % {"campanas": in_use_text(using)}
            return None
    target = segment or Segment()
    target.name, target.rules = form.name, form.rules
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        form.name_error = _("Ya existe un segmento llamado «%(nombre)s».") % {"nombre": form.name}
        return None
    base.log.info("segment %s saved by %s", target.pk, base.actor(request))
    messages.success(request, _("Segmento «%(nombre)s» guardado.") % {"nombre": target.name})
    return target


@base.staff_required
@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest) -> HttpResponse:
    """A new segment, rule by rule."""
    return segment_form_page(request, None)


@base.staff_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a segment's name or rules; campaigns using it read the new rules on their next run."""
    return segment_form_page(request, get_object_or_404(Segment, pk=pk))


@base.staff_required
@require_http_methods(["GET", "POST"])
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a segment after asking; refused while a campaign or automation not over uses it."""
    segment = get_object_or_404(Segment, pk=pk)
    using = list(segment.campaigns_using().values_list("name", flat=True))
    if using:
        messages.error(
            request,
            _(
                "No se puede borrar el segmento «%(nombre)s»: lo usan las campañas %(campanas)s. "
                "Termínelas o cámbielas de audiencia primero."
            )
            % {"nombre": segment.name, "campanas": in_use_text(using)},
        )
        return redirect("goteo:segment_list")
    if request.method == "POST":
        segment.delete()
        base.log.info("segment %s deleted by %s", pk, base.actor(request))
        messages.success(request, _("Segmento «%(nombre)s» borrado.") % {"nombre": segment.name})
        return redirect("goteo:segment_list")
    return render(request, "goteo/segments/confirm_delete.html", {"segment": segment})
