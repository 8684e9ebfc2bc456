"""Watching campaigns: the list, the seed's card with live refresh, and the sending chart.

Counts come from the counters kept on each campaign row and the chart reads a bounded
range of the (campaign, sent_at) index, so the pages stay fast with millions of messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from goteo import health
from goteo.draft import scheduled_outlook
from goteo.forecast import campaign_forecast, left_by_expiry, next_send_at
from goteo.frequency import held_messages
from goteo.funnel import funnel
from goteo.heartbeat import last_sent_at, sending_text, worker_status
from goteo.media import campaign_media, public_name
from goteo.models import Campaign, CampaignStatus, Sender
from goteo.progress import campaign_progress
from goteo.risk import sender_risk
from goteo.schedule import describe_start, parse_days
from goteo.simulation import sender_simulates
from goteo.web import automation_pages, base
from goteo.web.chart import chart
from goteo.web.formatting import day_text, moment_text, number
from goteo.web.paging import page_links

LIST_PAGE_SIZE = 25


def refresh_seconds() -> int:
    """How often an open campaign page asks for fresh counts while the campaign sends."""
    return int(getattr(settings, "GOTEO_DASHBOARD_REFRESH_SECONDS", 5))


def card(campaign: Campaign, now: datetime, *, forecast: bool = True) -> dict[str, Any]:
    """What the seed's card shows: counts with percentages, status, next send and forecast."""
    counts = campaign.counts()
    total = counts["total"]
    progress = campaign_progress(counts)
    tz = campaign.sender.tz
    data: dict[str, Any] = {
        "total": total,
        "sent": counts["sent"],
        "pending": counts["pending"],
        "sending": counts["sending"],
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "unknown": counts["unknown"],
        "simulated": counts["simulated"],  # printed in test mode, never sent (goteo.simulation)
        "simulation": campaign.simulation,
        "test_mode": campaign.status == CampaignStatus.DRAFT and sender_simulates(campaign.sender),
        "receivable": progress.receivable,
        "percent": progress.percent,
        "percent_simulated": progress.share(counts["simulated"]),
        "percent_pending": progress.share(counts["pending"]),
        "percent_failed": progress.share(counts["failed"]),
        "percent_unknown": progress.share(counts["unknown"]),
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "live": campaign.status == CampaignStatus.ACTIVE,
        "estimated_completion_text": "",
        "expiry_warning": "",
        "frequency_held": 0,
        "frequency_held_until": "",
    }
    if campaign.status == CampaignStatus.SCHEDULED and campaign.start_at is not None:
        return data | scheduled_card(campaign, now, forecast=forecast)
    left = left_by_expiry(campaign, now)
    if left is not None:
        return data | expired_card(campaign, left)
    held: dict[int, datetime] | None = None
    if forecast and counts["pending"]:  # the list skips it: it costs a lookup per campaign
        held = held_messages(campaign, now)
        data["frequency_held"] = len(held)
        if held:
            data["frequency_held_until"] = day_text(min(held.values()).astimezone(tz).date())
    when = next_send_at(campaign, now, held)
    data["next_send_text"] = moment_text(when, now, tz) if when else no_send_reason(campaign)
    if campaign.is_automation:  # it never finishes: each person is sent on their own day
        return data | {"status_label": automation_pages.status_label(campaign)}
    if forecast and campaign.status == CampaignStatus.ACTIVE and counts["pending"]:
        finish = campaign_forecast(campaign, now)
        data["estimated_completion_text"] = day_text(finish) if finish else _("no termina con estas reglas")
        valid_until = campaign.promotion.valid_until
        if finish is None or finish > valid_until:
            data["expiry_warning"] = _(
                "La promoción vence el %(fecha)s, antes de terminar: lo pendiente se omitirá entonces."
            ) % {"fecha": valid_until.strftime("%d/%m/%Y")}
    elif campaign.finished_at:
        data["estimated_completion_text"] = day_text(campaign.finished_at.astimezone(tz).date())
    return data


def scheduled_card(campaign: Campaign, now: datetime, *, forecast: bool) -> dict[str, Any]:
    """A campaign waiting for its start: when it starts, its first send and last day from then."""
    assert campaign.start_at is not None
    tz = campaign.sender.tz
    data: dict[str, Any] = {
        "status_label": _("Programada: empieza %(cuando)s")
        % {"cuando": describe_start(campaign.start_at, now, tz)},
        "next_send_text": moment_text(campaign.start_at, now, tz),
    }
    if forecast:  # the list skips it: it counts the audience
        when, finish = scheduled_outlook(campaign, now)
        if when is not None:
            data["next_send_text"] = moment_text(when, now, tz)
        data["estimated_completion_text"] = day_text(finish) if finish else ""
    return data


def expired_card(campaign: Campaign, left: int) -> dict[str, Any]:
    """What changes on the card once the promotion is over: nothing more goes out."""
    valid_until = campaign.promotion.valid_until
    return {
        "status": "expired",
        "status_label": _("Vencida"),
        "live": False,
        "next_send_text": _("ninguno: la promoción venció"),
        "estimated_completion_text": "",
        "expired_note": ngettext(
            "La promoción venció el %(fecha)s: no se enviará nada más. Quedó %(n)s persona sin recibirla.",
            "La promoción venció el %(fecha)s: no se enviará nada más. Quedaron %(n)s personas sin recibirla.",
            left,
        )
        % {"fecha": valid_until.strftime("%d/%m/%Y"), "n": number(left)},
    }


def no_send_reason(campaign: Campaign) -> str:
    """Why there is no next send, said instead of a bare dash."""
    reasons = {
        CampaignStatus.DRAFT: _("cuando la inicie"),
        CampaignStatus.PAUSED: _("ninguno mientras esté en pausa"),
        CampaignStatus.COMPLETED: _("ninguno: ya terminó"),
        CampaignStatus.CANCELLED: _("ninguno: fue cancelada"),
    }
    if campaign.status in reasons:
        return reasons[CampaignStatus(campaign.status)]
    if campaign.pending_count <= 0:
        return _("ninguno: no queda nadie pendiente")
    return _("ninguno: con estas reglas no hay un día de envío")


def rules(campaign: Campaign) -> dict[str, Any]:
    """The pacing rules in words for the detail page."""
    from goteo.web.forms import DAY_CHOICES

    names = dict(DAY_CHOICES)
    return {
        "days": ", ".join(str(names[d]) for d in parse_days(campaign.send_days)),
        "window": f"{campaign.window_start:%H:%M}–{campaign.window_end:%H:%M}",
    }


def connection(campaign: Campaign, now: datetime) -> dict[str, Any]:
    """The sender's WhatsApp connection and quality, from the cached health check."""
    sender = campaign.sender
    status = health.sender_status(sender, now)
    quality = str(status.extra.get("quality_rating") or "")
    braked_until = ""
    if sender.is_braked(now) and sender.paused_until:
        braked_until = sender.paused_until.astimezone(sender.tz).strftime("%d/%m/%Y %H:%M")
    return {
        "connected": status.connected,
        "simulation": sender_simulates(sender),
        "detail": status.detail,
        "quality": quality,
        "braked_until": braked_until,
        "brake_reason": sender.pause_reason if braked_until else "",
    }


def sender_standing(sender: Sender, now: datetime) -> dict[str, Any]:
    """The number's risk level with its reasons, and its warm-up stage today (None if over)."""
    return {
        "risk": sender_risk(sender, now).as_dict(),
        "warmup": sender.warmup_stage(sender.local_day(now)),
    }


def worker_line(now: datetime, campaigns: list[Campaign] | None = None) -> dict[str, Any]:
    """Whether sending goes on by itself, and the last send of ``campaigns`` (else of the
    active ones): the facts of campaign_status's worker line, in the shop's words."""
    status = worker_status(now)
    if campaigns is None:
        campaigns = list(Campaign.objects.filter(status=CampaignStatus.ACTIVE).order_by("-id")[:20])
    sent = [t for t in (last_sent_at(c, now) for c in campaigns) if t is not None]
    return {"text": sending_text(now, status, max(sent, default=None)), "warning": status["warning"]}


def get_campaign(pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("sender", "promotion"), pk=pk)


@base.staff_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Every campaign with its status, progress bar, counts and next send."""
    now = base.now()
    campaigns = Campaign.objects.select_related("sender", "promotion")
    status = request.GET.get("estado", "")
    if status in CampaignStatus.values:
        campaigns = campaigns.filter(status=status)
    page = Paginator(campaigns.filter(trigger=""), LIST_PAGE_SIZE).get_page(request.GET.get("pagina"))
    rows = [(campaign, card(campaign, now, forecast=False)) for campaign in page.object_list]
    # Automations stand apart, above the campaigns on the first page: they never finish.
    standing = campaigns.exclude(trigger="") if page.number == 1 else Campaign.objects.none()
    automation_rows = [(a, card(a, now, forecast=False) | automation_pages.row(a)) for a in standing]

    def url_for(number: int) -> str:
        params: dict[str, str | int] = {"estado": status, "pagina": number} if status else {"pagina": number}
        return "?" + urlencode(params)

    return render(
        request,
        "goteo/campaigns/list.html",
        {
            "page": page,
            "rows": rows,
            "automation_rows": automation_rows,
            "status": status,
            "statuses": CampaignStatus.choices,
            "live": any(c.status == CampaignStatus.ACTIVE for c, _card in rows + automation_rows),
            "worker": worker_line(now),
            "previous_url": page.has_previous() and url_for(page.previous_page_number()),
            "next_url": page.has_next() and url_for(page.next_page_number()),
            "page_links": page_links(page.number, page.paginator.num_pages, url_for),
        },
    )


def live_context(campaign: Campaign, now: datetime) -> dict[str, Any]:
    # A draft has no results yet, and a simulation's reached nobody: no funnel for them.
    shows_funnel = not campaign.simulation and campaign.status not in (
        CampaignStatus.DRAFT,
        CampaignStatus.SCHEDULED,
    )
    return {
        "campaign": campaign,
        "card": card(campaign, now),
        "funnel": funnel(campaign) if shows_funnel else None,
        "chart": chart(campaign, now),
        "refresh_seconds": refresh_seconds(),
        "worker": worker_line(now, [campaign]),
    }


def media_shown(campaign: Campaign | None) -> dict[str, str] | None:
    """The campaign's file as the preview shows it: its kind, name and address."""
    media = campaign_media(campaign) if campaign is not None else None
    if media is None:
        return None
    path = reverse("goteo:public_media", args=[media.token, public_name(media)])
    return {"kind": media.kind, "name": media.original_name, "url": path}


@base.staff_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The seed's card, the chart, the sender's connection and the actions."""
    campaign = get_campaign(pk)
    now = base.now()
    context = live_context(campaign, now) | {
        "connection": connection(campaign, now),
        "standing": sender_standing(campaign.sender, now),
        "rules": rules(campaign),
        "media": media_shown(campaign),
    }
    if campaign.is_automation:
        names = request.user.has_perm("goteo.view_contact")
        context["automation"] = automation_pages.automation_page(campaign, now, names)
    return render(request, "goteo/campaigns/detail.html", context)


@base.staff_required
def campaign_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The card alone, fetched every few seconds by the open detail page."""
    campaign = get_campaign(pk)
    return render(request, "goteo/campaigns/_live.html", live_context(campaign, base.now()))
