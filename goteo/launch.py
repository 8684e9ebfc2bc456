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
from django.db.models import QuerySet
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
    consent: bool, opted_out: bool, phone: str, seen: set[str], excluded: Container[str] = frozenset()
) -> str:
    """Why a contact gets a skipped row instead of a message, or "" when it is sendable."""
    if opted_out:
        return SkipReason.OPTED_OUT
    if phone and phone in excluded:
        return SkipReason.EXCLUDED
    if not consent:
        return SkipReason.NO_CONSENT
    if not phone:
        return SkipReason.INVALID_PHONE
    if phone in seen:
        return SkipReason.DUPLICATE_PHONE
    return ""


def excluded_phones(campaign: Campaign) -> set[str]:
    """The audience's phones that are on an exclusion list, loaded once per launch."""
    phones = audience(campaign).exclude(phone="").values("phone")
    return set(ExcludedPhone.objects.filter(phone__in=phones).values_list("phone", flat=True))


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
    excluded = excluded_phones(campaign)
    result = LaunchResult()
    seen: set[str] = set()
    rows = audience(campaign).order_by("id").values_list("id", "full_name", "phone", "consent", "opted_out")
    with transaction.atomic():
        batch: list[dict[str, Any]] = []
        for contact_id, full_name, phone, consent, opted_out in rows.iterator(chunk_size=BATCH_SIZE):
            reason = skip_reason_for(consent, opted_out, phone, seen, excluded)
            message: dict[str, Any] = {
                "contact_id": contact_id,
                "contact_name": full_name,
                "phone": phone or None,
            }
            if reason:
                message["status"] = MessageStatus.SKIPPED.value
                message["skip_reason"] = str(reason)
                message["finished_at"] = now
                if reason == SkipReason.DUPLICATE_PHONE:
                    message["phone"] = None  # the phone already has its message in this campaign
                    message["last_error"] = f"mismo teléfono que otro contacto ({phone})"
                result.skipped[reason] += 1
            else:
                seen.add(phone)
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
    seen: set[str] = set()
    first: list[tuple[str, str]] = []
    sendable = 0
    excluded = excluded_phones(campaign)
    rows = audience(campaign).order_by("id").values_list("full_name", "phone", "consent", "opted_out")
    for full_name, phone, consent, opted_out in rows.iterator(chunk_size=BATCH_SIZE):
        if skip_reason_for(consent, opted_out, phone, seen, excluded):
            continue
        seen.add(phone)
        sendable += 1
        if len(first) < limit:
            first.append((full_name, phone))
    return sendable, first
