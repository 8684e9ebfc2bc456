"""Launching a campaign: snapshot its audience into one message row per person.

Nobody disappears silently: people who cannot receive the promotion get a ``skipped``
row saying why (no consent, opted out, on an exclusion list, invalid or repeated phone).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.db.models.constants import OnConflict
from django.utils import timezone

from goteo.models import Campaign, CampaignStatus, Contact, ExcludedPhone, Message, MessageStatus, SkipReason
from goteo.status import forecast_warning, local_today
from goteo.templating import (
    Variables,
    add_footer,
    message_seed,
    opt_out_footer,
    render,
    split_emojis,
    validate_template,
)

BATCH_SIZE = 2000
# The message fields a launch sets row by row; every other field holds the same value
# (its default) in every row. A new field whose default differs per row, like ``uuid``,
# belongs here.
PER_ROW = frozenset(
    {
        "contact_id",
        "contact_name",
        "phone",
        "uuid",
        "status",
        "skip_reason",
        "rendered_text",
        "last_error",
        "finished_at",
    }
)


class LaunchError(Exception):
    """A campaign that cannot be launched; the message says why."""


@dataclass
class LaunchResult:
    """What a launch created, and what the shop should know before it sends."""

    total: int = 0
    pending: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    forecast: date | None = None


def audience(campaign: Campaign) -> QuerySet[Contact]:
    """The contacts a campaign's audience names: ``all`` or ``tag:NAME``."""
    spec = (campaign.audience or "all").strip()
    if spec == "all":
        return Contact.objects.all()
    if spec.startswith("tag:") and spec[4:].strip():
        return Contact.objects.filter(tags__name=spec[4:].strip()).distinct()
    raise LaunchError(f"Audiencia desconocida {spec!r}; use 'all' o 'tag:NOMBRE'.")


def skip_reason_for(
    consent: bool,
    opted_out: bool,
    phone: str,
    excluded: Container[str] = frozenset(),
    opted_out_phones: Container[str] = frozenset(),
) -> str:
    """Why a contact cannot receive the promotion, or "" when it may.

    A phone someone opted out from is opted out for everyone who shares it, as
    ``Contact.opt_out`` skips that phone's pending messages. Sharing a phone with
    another contact is decided by ``phone_holders``.
    """
    if opted_out or (phone and phone in opted_out_phones):
        return SkipReason.OPTED_OUT
    if phone and phone in excluded:
        return SkipReason.EXCLUDED
    if not consent:
        return SkipReason.NO_CONSENT
    if not phone:
        return SkipReason.INVALID_PHONE
    return ""


@dataclass(frozen=True)
class Blocked:
    """The audience's phones nobody may message, loaded once per launch."""

    excluded: set[str]
    opted_out: set[str]

    def reason(self, consent: bool, opted_out: bool, phone: str) -> str:
        return skip_reason_for(consent, opted_out, phone, self.excluded, self.opted_out)


def blocked_phones(contacts: QuerySet[Contact]) -> Blocked:
    """The phones of ``contacts`` on an exclusion list, or that any contact opted out from."""
    phones = contacts.exclude(phone="").values("phone")
    excluded = ExcludedPhone.objects.filter(phone__in=phones).values_list("phone", flat=True)
    opted_out = Contact.objects.filter(opted_out=True, phone__in=phones).values_list("phone", flat=True)
    return Blocked(set(excluded), set(opted_out))


def phone_holders(contacts: QuerySet[Contact], blocked: Blocked) -> dict[str, int]:
    """For each phone several contacts share, the contact whose row keeps it.

    The unique (campaign, phone) allows one row per phone, so the others get a
    ``duplicate_phone`` row. The holder is the first of them who may receive, so
    whoever consented gets the message whatever the order; if nobody may, the first.
    Shared phones are few: one grouped query finds them (a phone counted twice by a
    join only makes its one contact the holder).
    """
    shared = contacts.exclude(phone="").order_by().values("phone").annotate(n=Count("pk")).filter(n__gt=1)
    rows = (
        contacts.filter(phone__in=shared.values("phone"))
        .order_by("id")
        .values_list("id", "phone", "consent", "opted_out")
    )
    holders: dict[str, int] = {}
    receiving: set[str] = set()
    for contact_id, phone, consent, opted_out in rows:
        if phone in receiving:
            continue
        if not blocked.reason(consent, opted_out, phone):
            receiving.add(phone)
            holders[phone] = contact_id
        else:
            holders.setdefault(phone, contact_id)
    return holders


def campaign_launch(campaign: Campaign, now: datetime) -> LaunchResult:
    """Create the campaign's messages and make it active. Runs in one transaction."""
    if campaign.status != CampaignStatus.DRAFT:
        raise LaunchError(
            f"La campaña {campaign.pk} ya fue iniciada (estado: {campaign.get_status_display()})."
        )
    validate_template(campaign.template)
    promotion = campaign.promotion
    if promotion.valid_until < local_today(campaign, now):
        raise LaunchError(
            f"La promoción {promotion.code} venció el {promotion.valid_until:%d/%m/%Y}; "
            "no se puede iniciar la campaña."
        )
    problems = campaign.legal_problems()
    if problems:
        raise LaunchError(" ".join(v.message for v in problems))
    emojis = split_emojis(campaign.emojis)
    footer = opt_out_footer(campaign.opt_out_footer)
    contacts = audience(campaign)
    blocked = blocked_phones(contacts)
    holders = phone_holders(contacts, blocked)
    result = LaunchResult()
    rows = contacts.order_by("id").values_list("id", "full_name", "phone", "consent", "opted_out")
    with transaction.atomic():
        batch: list[dict[str, Any]] = []
        for contact_id, full_name, phone, consent, opted_out in rows.iterator(chunk_size=BATCH_SIZE):
            message: dict[str, Any] = {
                "contact_id": contact_id,
                "contact_name": full_name,
                "phone": phone or None,
            }
            if holders.get(phone, contact_id) != contact_id:
                reason: str = SkipReason.DUPLICATE_PHONE
                message["phone"] = None  # the phone has its row in this campaign
                message["last_error"] = f"mismo teléfono que otro contacto ({phone})"
            else:
                reason = blocked.reason(consent, opted_out, phone)
            if reason:
                message["status"] = MessageStatus.SKIPPED.value
                message["skip_reason"] = str(reason)
                message["finished_at"] = now
                result.skipped[reason] += 1
            else:
                text = render(
                    campaign.template,
                    Variables(full_name, promotion.code, promotion.benefit, promotion.valid_until),
                    seed=message_seed(campaign.pk, str(contact_id)),
                    emojis=emojis,
                )
                message["rendered_text"] = add_footer(text, footer)
                result.pending += 1
            batch.append(message)
            if len(batch) >= BATCH_SIZE:
                insert_messages(campaign.pk, batch)
                batch = []
        if batch:
            insert_messages(campaign.pk, batch)
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE, started_at=now)
        campaign.recount()
    result.total = campaign.total_count
    if campaign.daily_limit_warning:
        result.warnings.append(campaign.daily_limit_warning)
    warning, result.forecast = forecast_warning(campaign, now)
    if warning:
        result.warnings.append(warning)
    if result.pending == 0:
        campaign.complete_if_done(now)
    return result


def insert_messages(campaign_id: int, batch: list[dict[str, Any]]) -> None:
    """Insert one message per dict, like ``bulk_create(..., ignore_conflicts=True)``.

    Each dict holds some of the PER_ROW fields; the others keep their defaults. Django's
    bulk_create builds a model instance and converts its 22 fields for every row, most of
    a 100,000-contact launch; here the shared fields are converted once, and per row only
    the uuid and the date.
    """
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    template, now = Message(campaign_id=campaign_id), timezone.now()
    shared = {
        f.attname: f.get_db_prep_save(
            now if getattr(f, "auto_now_add", False) else getattr(template, f.attname), connection
        )
        for f in fields
        if f.attname not in PER_ROW
    }
    defaults = {name: getattr(template, name) for name in PER_ROW}
    defaults["status"] = str(defaults["status"])
    uuid_field, date_field = Message._meta.get_field("uuid"), Message._meta.get_field("finished_at")
    dates: dict[datetime | None, Any] = {None: None}
    rows = []
    for message in batch:
        values = defaults | message
        values["uuid"] = uuid_field.get_db_prep_value(uuid.uuid4(), connection)
        when = values["finished_at"]
        if when not in dates:
            dates[when] = date_field.get_db_prep_save(when, connection)
        values["finished_at"] = dates[when]
        rows.append([shared[f.attname] if f.attname in shared else values[f.attname] for f in fields])
    ops, quote = connection.ops, connection.ops.quote_name
    sql = "{} {} ({}) VALUES ({}) {}".format(
        ops.insert_statement(on_conflict=OnConflict.IGNORE),
        quote(Message._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def preview_recipients(campaign: Campaign, limit: int) -> tuple[int, list[tuple[str, str]]]:
    """Before launching: how many contacts can receive it, and the first ``limit`` of them."""
    contacts = audience(campaign)
    blocked = blocked_phones(contacts)
    holders = phone_holders(contacts, blocked)
    first: list[tuple[str, str]] = []
    sendable = 0
    rows = contacts.order_by("id").values_list("id", "full_name", "phone", "consent", "opted_out")
    for contact_id, full_name, phone, consent, opted_out in rows.iterator(chunk_size=BATCH_SIZE):
        if holders.get(phone, contact_id) != contact_id or blocked.reason(consent, opted_out, phone):
            continue
        sendable += 1
        if len(first) < limit:
            first.append((full_name, phone))
    return sendable, first
