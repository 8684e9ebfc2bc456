"""/api/v1/contacts/: create or update a contact by phone, read it, opt it out."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest
from ninja import Router
from ninja.responses import Status

from goteo.api.auth import actor, now, require
from goteo.api.contact_data import SOURCE, contact_data, find_contact, local, phone_of, save_contact
from goteo.api.schemas import BadInput, ContactIn, ContactOut, ContactSaved, Detail, OptedOut
from goteo.models import Contact

log = logging.getLogger("goteo.web")
router = Router(tags=["Contactos"])

VIEW, ADD, CHANGE = "goteo.view_contact", "goteo.add_contact", "goteo.change_contact"
ERRORS = {400: BadInput, 401: Detail, 403: Detail, 404: Detail, 429: Detail}


def get_contact(phone: str) -> Contact:
    contact = find_contact(phone_of(phone))
    if contact is None:
        raise Http404(f"No hay ningún contacto con el teléfono {phone}.")
    return contact


@router.post(
    "/",
    response={200: ContactSaved, 201: ContactSaved, **ERRORS},
    summary="Crear o actualizar un contacto por su teléfono",
    description="Crea el contacto si su teléfono no existe (201) o actualiza el que lo tiene (200). "
    "Solo cambian los campos enviados. El consentimiento nunca quita una baja.",
)
def save(request: HttpRequest, payload: ContactIn) -> Status[dict[str, object]]:
    exists = find_contact(phone_of(payload.phone)) is not None
    require(request, VIEW, CHANGE if exists else ADD)
    contact, created, warnings = save_contact(payload, now())
    return Status(201 if created else 200, contact_data(contact) | {"created": created, "warnings": warnings})


@router.get("/{phone}/", response={200: ContactOut, **ERRORS}, summary="Ver un contacto por su teléfono")
def read(request: HttpRequest, phone: str) -> dict[str, object]:
    require(request, VIEW)
    return contact_data(get_contact(phone))


@router.post(
    "/{phone}/opt-out/",
    response={200: OptedOut, **ERRORS},
    summary="Dar de baja a un contacto",
    description="No recibirá más promociones y se omiten sus mensajes pendientes. Repetirla no cambia nada.",
)
def opt_out(request: HttpRequest, phone: str) -> dict[str, object]:
    require(request, CHANGE)
    contact = get_contact(phone)
    skipped = contact.opt_out(SOURCE, now())
    log.info("contact %s opt-out=%s by %s", contact.pk, contact.opted_out, actor(request))
    return {
        "phone": contact.phone,
        "opted_out": contact.opted_out,
        "opted_out_at": local(contact.opted_out_at),
        "skipped": skipped,
    }
