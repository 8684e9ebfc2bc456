"""Launching a campaign: snapshot its audience into one message row per person.

Nobody disappears silently: people who cannot receive the promotion get a ``skipped``
row saying why (no consent, opted out, on an exclusion list, invalid, repeated or fixed-line
phone).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from goteo.models import Campaign, CampaignStatus, Contact, ExcludedPhone, Message, MessageStatus, SkipReason
from goteo.models.messages import landlines_allowed
from goteo.simulation import launch_refusal
from goteo.status import forecast_warning
from goteo.templating import (
    Variables,
    add_footer,
    message_seed,
    opt_out_footer,
    person_key,
    render,
    split_emojis,
    validate_template,
    with_emoji,
)

BATCH_SIZE = 2000
# The message fields a launch sets row by row, in the order MessageTable.row takes them;
# every other field holds the same value (its default) in every row. A new field whose
# default differs per row, like ``uuid``, belongs here.
PER_ROW = (
    "contact_id",
    "contact_name",
    "phone",
    "rendered_text",
    "uuid",
    "status",
    "skip_reason",
    "last_error",
    "finished_at",
)
# What a launch reads of each contact in its audience, in the order launch_rows takes it.
AUDIENCE_FIELDS = ("id", "full_name", "phone", "consent", "opted_out", "landline")


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
    """The contacts a campaign's audience names (Campaign.audience_contacts), or LaunchError."""
    try:
        return campaign.audience_contacts()
    except ValueError as exc:
        raise LaunchError(str(exc)) from None


def skip_reason_for(
    consent: bool,
    opted_out: bool,
    phone: str,
    excluded: Container[str] = frozenset(),
    opted_out_phones: Container[str] = frozenset(),
    landline: bool = False,
) -> str:
    """Why a contact cannot receive the promotion, or "" when it may.

    A phone someone opted out from is opted out for everyone who shares it, as
    ``Contact.opt_out`` skips that phone's pending messages. Sharing a phone with
    another contact is decided by ``phone_holders``. ``landline`` is true only for a
    fixed line the shop has not allowed (GOTEO_ALLOW_LANDLINES).
    """
    if opted_out or (phone and phone in opted_out_phones):
        return SkipReason.OPTED_OUT
    if phone and phone in excluded:
        return SkipReason.EXCLUDED
    if not consent:
        return SkipReason.NO_CONSENT
    if not phone:
        return SkipReason.INVALID_PHONE
    if landline:
        return SkipReason.LANDLINE
    return ""


@dataclass
class Recipients:
    """Who of an audience may receive, decided once per launch before any row is written.

    ``excluded`` and ``opted_out`` are the audience's phones on an exclusion list or
    opted out from by any contact. ``holders`` names, for each phone several contacts
    share, the one whose row keeps it, since (campaign, phone) is unique: the first of
    them who may receive, so whoever consented gets the message whatever the order; if
    nobody may, the first. ``taken`` records the phones given out so far.
    """

    excluded: set[str]
    opted_out: set[str]
    holders: dict[str, int]
    taken: set[str] = field(default_factory=set)
    skip_landlines: bool = True

    @classmethod
    def load(cls, contacts: QuerySet[Contact]) -> Recipients:
        phones = contacts.exclude(phone="").values("phone")
        excluded = ExcludedPhone.objects.filter(phone__in=phones).values_list("phone", flat=True)
        gone = Contact.objects.filter(opted_out=True, phone__in=phones).values_list("phone", flat=True)
        recipients = cls(set(excluded), set(gone), {}, skip_landlines=not landlines_allowed())
        # Shared phones are few: one grouped query finds them (a phone a join counts
        # twice only makes its one contact the holder).
        shared = contacts.exclude(phone="").order_by().values("phone").annotate(n=Count("pk")).filter(n__gt=1)
        rows = contacts.filter(phone__in=shared.values("phone")).order_by("id")
        receiving: set[str] = set()
        fields = ("id", "phone", "consent", "opted_out", "landline")
        for contact_id, phone, consent, opted_out, landline in rows.values_list(*fields):
            if phone in receiving:
                continue
            if recipients.may_receive(phone, consent, opted_out, landline):
                receiving.add(phone)
                recipients.holders[phone] = contact_id
            else:
                recipients.holders.setdefault(phone, contact_id)
        return recipients

    def may_receive(self, phone: str, consent: bool, opted_out: bool, landline: bool) -> bool:
        """Whether, sharing aside, this contact may receive the promotion."""
        landline = landline and self.skip_landlines
        return not skip_reason_for(consent, opted_out, phone, self.excluded, self.opted_out, landline)

    def reason(self, contact_id: int, phone: str, consent: bool, opted_out: bool, landline: bool) -> str:
        """Why this contact gets a skipped row, or "" when it gets the message.

        Call it once per contact, in the order the rows are written: a contact that
        keeps its phone takes it, and any later contact with that phone (one a
        concurrent import added, say) is a duplicate, never a second row for it.
        """
        if phone and (self.holders.get(phone, contact_id) != contact_id or phone in self.taken):
            return SkipReason.DUPLICATE_PHONE
        if phone:
            self.taken.add(phone)
        landline = landline and self.skip_landlines
        return skip_reason_for(consent, opted_out, phone, self.excluded, self.opted_out, landline)


def campaign_launch(campaign: Campaign, now: datetime, *, simulate: bool = False) -> LaunchResult:
    """Create the campaign's messages and make it active. Runs in one transaction.

    ``simulate`` starts it as a simulation, which a number in test mode requires and a
    number connected to WhatsApp refuses (goteo.simulation).
    """
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise LaunchError(
            f"La campaña {campaign.pk} ya fue iniciada (estado: {campaign.get_status_display()})."
        )
    refusal = launch_refusal(campaign, simulate)
    if refusal:
        raise LaunchError(refusal)
    validate_template(campaign.template)
    promotion = campaign.promotion
    if promotion.valid_until < campaign.local_today(now):
        raise LaunchError(
            f"La promoción {promotion.code} venció el {promotion.valid_until:%d/%m/%Y}; "
            "no se puede iniciar la campaña."
        )
    problems = campaign.legal_problems()
    if problems:
        raise LaunchError(" ".join(v.message for v in problems))
    emojis = split_emojis(campaign.emojis)
    footer = opt_out_footer(campaign.opt_out_footer)

    def text_for(contact_id: int, full_name: str) -> str:
        variables = Variables(full_name, promotion.code, promotion.benefit, promotion.valid_until)
        seed = message_seed(campaign.pk, str(contact_id))
        if key is None:
            return add_footer(render(campaign.template, variables, seed=seed, emojis=emojis), footer)
        # Without alternatives the text before the emoji depends only on the name: it is
        # rendered once per name, and each message gets its own emoji.
        name = key(full_name)
        text = texts.get(name)
        if text is None:
            text = texts[name] = render(campaign.template, variables, seed=seed)
        return add_footer(with_emoji(text, emojis, seed), footer)

    key = person_key(campaign.template)
    texts: dict[str, str] = {}

    contacts = audience(campaign)
    result = LaunchResult()
    table = MessageTable(campaign.pk, now)
    with transaction.atomic():
        # A conditional update: a second launch of the same draft waits for this one, then refuses.
        waiting = [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
        claimed = Campaign.objects.filter(pk=campaign.pk, status__in=waiting).update(
            status=CampaignStatus.ACTIVE, started_at=now, simulation=simulate
        )
        if claimed != 1:
            raise LaunchError(f"La campaña {campaign.pk} ya fue iniciada.")
        recipients = Recipients.load(contacts)
        rows = contacts.order_by("id").values_list(*AUDIENCE_FIELDS)
        audience_rows = rows.iterator(chunk_size=BATCH_SIZE)
        # A whole chunk is read before its rows are written, as on PostgreSQL the COPY holds
        # the connection; the rows are rendered while the COPY runs, beside the database's work.
        while chunk := list(islice(audience_rows, BATCH_SIZE)):
            table.write(launch_rows(chunk, recipients, table, text_for, result))
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


def launch_rows(
    chunk: list[tuple[int, str, str, bool, bool, bool]],
    recipients: Recipients,
    table: MessageTable,
    text_for: Callable[[int, str], str],
    result: LaunchResult,
) -> Iterator[tuple[Any, ...]]:
    """The message rows of a chunk of contacts, counted into ``result`` as they are made."""
    for contact_id, full_name, phone, consent, opted_out, landline in chunk:
        reason = recipients.reason(contact_id, phone, consent, opted_out, landline)
        if not reason:
            result.pending += 1
            yield table.row(contact_id, full_name, phone, text_for(contact_id, full_name))
            continue
        result.skipped[reason] += 1
        if reason == SkipReason.DUPLICATE_PHONE:
            detail = f"mismo teléfono que otro contacto ({phone})"
            yield table.skipped(contact_id, full_name, None, reason, detail)
        else:
            yield table.skipped(contact_id, full_name, phone or None, reason)


class MessageTable:
    """Rows of one campaign's messages, written in bulk.

    Django's bulk_create builds a model instance and converts its 22 fields for every
    row, most of a 100,000-contact launch; here the fields a launch leaves at their
    defaults (all but PER_ROW) are converted once, and a row is the per-row values
    followed by those. PostgreSQL receives the rows through COPY: one INSERT per row,
    even pipelined, was most of a launch there. There is no ON CONFLICT: a row that
    breaks a unique constraint fails the launch instead of vanishing.
    """

    def __init__(self, campaign_id: int, finished_at: datetime) -> None:
        """``finished_at`` is when the skipped rows were decided (the launch's moment)."""
        fields = {f.attname: f for f in Message._meta.concrete_fields if not f.primary_key}
        template, created = Message(campaign_id=campaign_id), timezone.now()
        self.shared = tuple(
            f.get_db_prep_save(
                created if getattr(f, "auto_now_add", False) else getattr(template, name), connection
            )
            for name, f in fields.items()
            if name not in PER_ROW
        )
        self.columns = [fields[name].column for name in PER_ROW]
        self.columns += [f.column for name, f in fields.items() if name not in PER_ROW]
        self.native_uuid = connection.features.has_native_uuid_field
        self.finished_at = self.db_date(finished_at)

    def new_uuid(self) -> uuid.UUID | str:
        return uuid.uuid4() if self.native_uuid else uuid.uuid4().hex  # SQLite stores hex

    @staticmethod
    def db_date(when: datetime) -> Any:
        return Message._meta.get_field("finished_at").get_db_prep_save(when, connection)

    def row(
        self,
        contact_id: int | None,
        name: str,
        phone: str | None,
        text: str = "",
        status: str = MessageStatus.PENDING.value,
        reason: str = "",
        detail: str = "",
        finished_at: Any = None,
    ) -> tuple[Any, ...]:
        """One message row, in PER_ROW order; ``finished_at`` already passed through db_date."""
        return (
            contact_id,
            name,
            phone,
            text,
            self.new_uuid(),
            status,
            reason,
            detail,
            finished_at,
            *self.shared,
        )

    def skipped(
        self, contact_id: int, name: str, phone: str | None, reason: str, detail: str = ""
    ) -> tuple[Any, ...]:
        status = MessageStatus.SKIPPED.value
        return self.row(contact_id, name, phone, "", status, str(reason), detail, self.finished_at)

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert ``rows``; on PostgreSQL they are made while the COPY streams them."""
        table = connection.ops.quote_name(Message._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", list(rows))


def preview_recipients(campaign: Campaign, limit: int) -> tuple[int, list[tuple[str, str]]]:
    """Before launching: how many contacts can receive it, and the first ``limit`` of them."""
    contacts = audience(campaign)
    recipients = Recipients.load(contacts)
    first: list[tuple[str, str]] = []
    sendable = 0
    rows = contacts.order_by("id").values_list(*AUDIENCE_FIELDS)
    for contact_id, full_name, phone, consent, opted_out, landline in rows.iterator(chunk_size=BATCH_SIZE):
        if recipients.reason(contact_id, phone, consent, opted_out, landline):
            continue
        sendable += 1
        if len(first) < limit:
            first.append((full_name, phone))
    return sendable, first
