"""Creating or updating a contact from the API, found by its phone.

Only the fields sent change. Consent given here is recorded with its moment and the source
"API"; it never lifts an opt-out: a person who asked for no more promotions stays out until
they ask again (the dashboard, or their own message), and the answer says so. Attributes
are added to those the contact has, and tags too: a sync that sends part of the data never
erases the rest.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from goteo.api.errors import FieldErrors
from goteo.api.schemas import ContactIn
from goteo.importing import attach_tags
from goteo.models import Contact
from goteo.models.messages import landlines_allowed
from goteo.phones import InvalidPhone, read_phone
from goteo.writes import write_transaction

SOURCE = "API"
STILL_OPTED_OUT = (
    "Esta persona pidió no recibir más promociones; su consentimiento no cambia y sigue sin "
    "recibirlas hasta que ella misma lo pida de nuevo."
)
LANDLINE = "Es un teléfono fijo: WhatsApp no llega a los fijos, así que las campañas lo omiten."


def phone_of(raw: str, field: str = "phone") -> str:
    """The phone in E.164, or a 400 naming ``field``."""
    try:
        return read_phone(raw).e164
    except InvalidPhone as exc:
        raise FieldErrors({field: [exc.detail]}) from None


def find_contact(phone: str) -> Contact | None:
    """The contact with this E.164 phone; the oldest if the shop has it twice."""
    return Contact.objects.filter(phone=phone).order_by("id").first()


def check_dates(data: ContactIn, today: date) -> None:
    errors = {}
    for field in ("birth_date", "last_visit"):
        day = getattr(data, field)
        if day is not None and day > today:
            errors[field] = [f"es una fecha futura ({day.isoformat()}); hoy es {today.isoformat()}"]
        elif day is not None and day.year < 1900:
            errors[field] = ["es anterior a 1900"]
    if errors:
        raise FieldErrors(errors)


def save_contact(data: ContactIn, now: datetime) -> tuple[Contact, bool, list[str]]:
    """Create or update the contact with ``data.phone``: the contact, whether it was created,
    and warnings for the caller."""
    phone = phone_of(data.phone)
    check_dates(data, timezone.localdate(now))
    with write_transaction():
        one_at_a_time(phone)
        contact = find_contact(phone)
        created = contact is None
        if contact is None:
            if not data.name:
                raise FieldErrors({"name": ["falta: un contacto nuevo necesita su nombre"]})
            contact = Contact(phone=phone, phone_raw=data.phone.strip())
        warnings = apply(contact, data, now)
        contact.save()
        if data.tags:
            attach_tags([(contact.pk, data.tags)])
    if contact.landline and not landlines_allowed():
        warnings.append(LANDLINE)
    return contact, created, warnings


def apply(contact: Contact, data: ContactIn, now: datetime) -> list[str]:
    """Put the fields sent on ``contact`` (unsaved); what to warn about."""
    warnings = []
    if data.name:
        contact.full_name = data.name
    if data.consent and contact.opted_out:
        warnings.append(STILL_OPTED_OUT)
    elif data.consent and not contact.consent:
        contact.consent, contact.consent_at, contact.consent_source = True, now, SOURCE
    elif data.consent is False:
        contact.consent = False
    for field in ("birth_date", "last_visit"):
        if field in data.model_fields_set:
            setattr(contact, field, getattr(data, field))
    if data.attributes:
        kept = dict(contact.attributes or {})
        for key, value in data.attributes.items():
            if value:
                kept[key] = value
            else:
                kept.pop(key, None)
        contact.attributes = kept
    return warnings


def one_at_a_time(phone: str) -> None:
    """Two requests for one new phone must not both create it. On PostgreSQL a lock on the
    phone for the transaction; SQLite's write transaction already admits one writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"goteo.contact:{phone}"])


def local(moment: datetime | None) -> datetime | None:
    """A moment in the shop's time zone, however it was read: the same instant, said the same."""
    return timezone.localtime(moment) if moment else None


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "phone": contact.phone,
        "name": contact.full_name,
        "landline": contact.landline,
        "consent": contact.consent,
        "consent_at": local(contact.consent_at),
        "consent_source": contact.consent_source,
        "opted_out": contact.opted_out,
        "opted_out_at": local(contact.opted_out_at),
        "birth_date": contact.birth_date,
        "last_visit": contact.last_visit,
        "attributes": {str(k): str(v) for k, v in (contact.attributes or {}).items()},
        "tags": list(contact.tags.order_by("name").values_list("name", flat=True)),
    }
