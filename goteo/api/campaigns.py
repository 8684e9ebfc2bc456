"""/api/v1/campaigns/ and /api/v1/automations/: list, status, pause, resume and message results.

One-off campaigns (no trigger) and automations (goteo.automations) are the same rows, told
apart by their trigger; each path shows only its own kind, so an id of the other kind is a
404. A status has the keys of ``goteo campaign_status --json`` (goteo.status.status_data).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from goteo.api.auth import actor, now, require
from goteo.api.errors import Conflict
from goteo.api.schemas import BadInput, CampaignItem, Detail, MessageItem
from goteo.brakes import resume_warning
from goteo.models import Campaign, Message
from goteo.risk import sender_risk
from goteo.status import campaign_summary, status_data

log = logging.getLogger("goteo.web")

VIEW, CHANGE, VIEW_CONTACTS = "goteo.view_campaign", "goteo.change_campaign", "goteo.view_contact"
ERRORS = {400: BadInput, 401: Detail, 403: Detail, 404: Detail, 429: Detail}
PAGE_SIZE = 50  # messages or campaigns a page; ?page_size= asks for fewer (or up to ninja's maximum)


def status_of(campaign: Campaign) -> dict[str, Any]:
    moment = now()
    return status_data(campaign_summary(campaign, moment), sender_risk(campaign.sender, moment))


def build(router: Router, automations: bool) -> None:
    """The endpoints of one kind: ``automations`` or one-off campaigns."""
    kind = "automation" if automations else "campaign"
    noun = "automatización" if automations else "campaña"

    def of_kind() -> QuerySet[Campaign]:
        rows = Campaign.objects.select_related("promotion", "sender")
        return rows.exclude(trigger="") if automations else rows.filter(trigger="")

    def get(pk: int) -> Campaign:
        campaign = of_kind().filter(pk=pk).first()
        if campaign is None:
            raise Http404(f"No hay ninguna {noun} con el número {pk}.")
        return campaign

    @router.get(
        "/",
        response=list[CampaignItem],
        operation_id=f"{kind}_list",
        summary=f"Lista de {noun}s, las más nuevas primero",
    )
    @paginate(PageNumberPagination, page_size=PAGE_SIZE)
    def listing(request: HttpRequest) -> QuerySet[Campaign]:
        require(request, VIEW)
        return of_kind().order_by("-created_at", "-id")

    @router.get(
        "/{pk}/",
        response={200: dict[str, Any], **ERRORS},
        operation_id=f"{kind}_status",
        summary=f"Estado de una {noun}",
        description="Las mismas claves que «goteo campaign_status --json».",
    )
    def status(request: HttpRequest, pk: int) -> dict[str, Any]:
        require(request, VIEW)
        return status_of(get(pk))

    @router.post(
        "/{pk}/pause/",
        response={200: dict[str, Any], 409: Detail, **ERRORS},
        operation_id=f"{kind}_pause",
        summary=f"Pausar una {noun}",
        description="Los mensajes pendientes esperan. 409 si no está en progreso.",
    )
    def pause(request: HttpRequest, pk: int) -> dict[str, Any]:
        require(request, CHANGE)
        campaign = get(pk)
        if not campaign.pause(reason=f"Pausada por {actor(request)} desde la API"):
            raise Conflict(
                f"Solo se puede pausar una {noun} en progreso; esta está «{campaign.get_status_display()}»."
            )
        log.info("campaign %s paused by %s", pk, actor(request))
        return status_of(campaign)

    @router.post(
        "/{pk}/resume/",
        response={200: dict[str, Any], 409: Detail, **ERRORS},
        operation_id=f"{kind}_resume",
        summary=f"Reanudar una {noun} pausada",
        description="409 si no está pausada. «warnings» dice si su número sigue frenado.",
    )
    def resume(request: HttpRequest, pk: int) -> dict[str, Any]:
        require(request, CHANGE)
        campaign = get(pk)
        if not campaign.resume():
            raise Conflict(
                f"Solo se puede reanudar una {noun} pausada; esta está «{campaign.get_status_display()}»."
            )
        log.info("campaign %s resumed by %s", pk, actor(request))
        how = "levántelo en el panel, en Números de WhatsApp, con «Levantar freno»"
        warning = resume_warning(campaign.sender, now(), how=how)
        return status_of(campaign) | {"warnings": [warning] if warning else []}

    @router.get(
        "/{pk}/messages/",
        response=list[MessageItem],
        operation_id=f"{kind}_messages",
        summary=f"Resultados de los mensajes de una {noun}, por páginas",
        description="Estado, fechas de envío, entrega, lectura y respuesta, motivo de omisión y código "
        "de cada persona. Incluye nombres y teléfonos: pide permiso para ver los contactos.",
    )
    @paginate(PageNumberPagination, page_size=PAGE_SIZE)
    def messages(request: HttpRequest, pk: int) -> QuerySet[Message]:
        require(request, VIEW, VIEW_CONTACTS)
        return Message.objects.filter(campaign=get(pk)).order_by("id")


campaigns = Router(tags=["Campañas"])
automations = Router(tags=["Automatizaciones"])
build(campaigns, automations=False)
build(automations, automations=True)
