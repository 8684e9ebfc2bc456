"""Writing the host project's people into goteo's contacts: all at once, or one on each save.

A host row finds its contact by ``source_ref`` ("patients.Patient:42") first, then by phone
among the contacts no host row owns yet (the same name first), else it is a new contact.
Rules, whatever the host says:

- an opt-out is never undone, and an opted-out person's consent is left as it is;
- consent given in the host sets consent with its date and the source «sistema de la tienda»;
  consent withdrawn there withdraws it here and skips what was pending for the person;
- a phone goteo cannot read changes nothing and is counted (and logged, masked);
- a deleted host row keeps its contact (its history and opt-out matter), no longer linked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from goteo.contact_source import HostRow, Source, SourceError, load_source
from goteo.models import Contact, Message, SkipReason
from goteo.phones import InvalidPhone, Phone, mask_phone, read_phone

log = logging.getLogger("goteo.contact_source")

CONSENT_SOURCE = "sistema de la tienda"
CHUNK = 1000
SAVED = ("full_name", "phone", "phone_raw", "landline", "consent", "consent_at", "consent_source")
FIELDS = (*SAVED, "birth_date", "last_visit", "attributes", "source_ref")


@dataclass
class SyncReport:
    """What a sync did (or, on a dry run, would do)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (source_ref, why)
    withdrawn: int = 0  # consents the host withdrew

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.invalid)


def host_rows(source: Source, chunk: int = CHUNK) -> Iterator[list[models.Model]]:
    """The host's rows in chunks by primary key: 100,000 patients never load at once."""
    last: Any = None
    manager = source.model._default_manager
    while True:
        rows = manager.order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows[:chunk])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def sync_all(now: datetime, *, dry_run: bool = False, source: Source | None = None) -> SyncReport:
    """Bring every host row into the contacts, in one transaction (rolled back on a dry run)."""
    source = source or load_source()
    if source is None:
        raise SourceError(["GOTEO_CONTACT_SOURCE no está configurado."])
    report = SyncReport()
    with transaction.atomic():
        for batch in host_rows(source):
            write_batch(source, [source.read(instance) for instance in batch], now, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def write_batch(source: Source, rows: list[HostRow], now: datetime, report: SyncReport) -> None:
    """Upsert one chunk: two queries to find the contacts, then one insert and one update."""
    readable: list[tuple[HostRow, Phone]] = []
    for row in rows:
        try:
            readable.append((row, read_phone(row.phone_raw)))
        except InvalidPhone as exc:
            report.invalid.append((row.ref, f"teléfono: {exc.detail}"))
    linked = Contact.objects.filter(source_ref__in=[r.ref for r, _p in readable]).order_by("-id")
    by_ref = {c.source_ref: c for c in linked}  # the oldest, should two share a reference
    phones = {p.e164 for r, p in readable if r.ref not in by_ref}
    free: dict[str, list[Contact]] = {}
    for contact in Contact.objects.filter(phone__in=phones, source_ref="").order_by("id"):
        free.setdefault(contact.phone, []).append(contact)
    new: list[Contact] = []
    changed: list[Contact] = []
    withdrawn: list[int] = []
    for row, phone in readable:
        found = by_ref.get(row.ref) or claim(free.get(phone.e164, []), row.full_name)
        if found is None:
            contact = Contact(attributes={})
            apply(source, contact, row, phone, now)
            new.append(contact)
        else:
            contact = found
            had_consent = contact.consent
            if apply(source, contact, row, phone, now):
                changed.append(contact)
                if had_consent and not contact.consent:
                    withdrawn.append(contact.pk)
            else:
                report.unchanged += 1
    Contact.objects.bulk_create(new, batch_size=CHUNK)
    Contact.objects.bulk_update(changed, [*FIELDS, "updated_at"], batch_size=CHUNK)
    if withdrawn:
        skip_withdrawn(withdrawn, now)
    report.created += len(new)
    report.updated += len(changed)
    report.withdrawn += len(withdrawn)


def claim(candidates: list[Contact], name: str) -> Contact | None:
    """The unlinked contact with this phone to take: the same name first, else the oldest."""
    if not candidates:
        return None
    same = next((c for c in candidates if c.full_name.casefold() == name.casefold()), candidates[0])
    candidates.remove(same)
    return same


def apply(source: Source, contact: Contact, row: HostRow, phone: Phone, now: datetime) -> bool:
    """Copy what the host says onto ``contact`` under the rules above; whether anything changed."""
    before = [getattr(contact, name) for name in FIELDS]
    contact.full_name = row.full_name or contact.full_name or row.phone_raw
    contact.phone, contact.phone_raw, contact.landline = phone.e164, row.phone_raw, phone.landline
    contact.source_ref = row.ref
    if row.consent is not None and not contact.opted_out:
        if row.consent and not contact.consent:
            contact.consent, contact.consent_at, contact.consent_source = True, now, CONSENT_SOURCE
        elif not row.consent and contact.consent:
            contact.consent = False
    if source.birth_date:
        contact.birth_date = row.birth_date
    if source.last_visit:
        contact.last_visit = row.last_visit
    attributes = dict(contact.attributes) if isinstance(contact.attributes, dict) else {}
    for key, value in row.attributes.items():
        if value is None:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    contact.attributes = attributes
    contact.updated_at = now  # bulk_update does not stamp it
    return [getattr(contact, name) for name in FIELDS] != before


def skip_withdrawn(contact_ids: Iterable[int], now: datetime) -> int:
    """Skip what was pending for people whose consent the host withdrew."""
    return Message.objects.filter(contact_id__in=list(contact_ids)).skip_pending(
        SkipReason.NO_CONSENT, now, by=CONSENT_SOURCE
    )


def sync_one(source: Source, instance: models.Model, now: datetime) -> str:
    """Bring one host row into its contact: "created", "updated", "unchanged" or "invalid"."""
    report = SyncReport()
    write_batch(source, [source.read(instance)], now, report)
    if report.invalid:
        return "invalid"
    return "created" if report.created else ("updated" if report.updated else "unchanged")


def unlink(source: Source, pk: Any) -> int:
    """A host row is gone: its contact stays, with its history and opt-out, but is no longer linked."""
    return Contact.objects.filter(source_ref=source.ref(pk)).update(source_ref="")


# Receivers: connected by goteo.apps only when the setting names a model.


def on_host_save(
    sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any
) -> None:
    """Keep the one contact in step; a failure is logged and never breaks the host's save."""
    if raw:  # loading fixtures: the row may not be whole yet
        return
    phone = ""
    try:
        source = load_source()
        if source is None:
            return
        phone = source.read(instance).phone_raw
        with transaction.atomic():  # a savepoint: the host's own transaction stays usable
            outcome = sync_one(source, instance, timezone.now())
        if outcome == "invalid":
            log.warning(
                "contact for %s not synced: unreadable phone %s", source.ref(instance.pk), mask_phone(phone)
            )
    except Exception:
        log.exception(
            "could not sync the contact of %s (phone %s)",
            f"{sender._meta.label}:{instance.pk}",
            mask_phone(phone),
        )


def on_host_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """Unlink the contact of a deleted host row; a failure is logged and never breaks the delete."""
    try:
        source = load_source()
        if source is not None:
            with transaction.atomic():
                unlink(source, instance.pk)
    except Exception:
        log.exception("could not unlink the contact of %s", f"{sender._meta.label}:{instance.pk}")


DISPATCH = "goteo.contact_sync"


def connect() -> bool:
    """Connect the receivers to the configured host model; False when there is none or it is wrong.

    A wrong setting connects nothing: the system check (goteo.checks) says what is wrong.
    """
    try:
        source = load_source()
    except SourceError:
        return False
    if source is None:
        return False
    post_save.connect(on_host_save, sender=source.model, dispatch_uid=DISPATCH)
    post_delete.connect(on_host_delete, sender=source.model, dispatch_uid=DISPATCH)
    return True


def disconnect(model: type[models.Model]) -> None:
    post_save.disconnect(sender=model, dispatch_uid=DISPATCH)
    post_delete.disconnect(sender=model, dispatch_uid=DISPATCH)
