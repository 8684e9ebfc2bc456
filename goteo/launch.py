"""Launching a campaign: snapshot its audience into one message row per person.

Nobody disappears silently: people who cannot receive the promotion get a ``skipped``
row saying why (no consent, opted out, on an exclusion list, invalid, repeated or fixed-line
phone).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from goteo.audience import AUDIENCE_FIELDS, AudienceError, Recipients, audience
from goteo.codes import code_prefix, draw_codes
from goteo.content import Content
from goteo.forecast import forecast_warning
from goteo.media import launch_problem
from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, SkipReason
from goteo.simulation import launch_refusal
from goteo.templating import canonical, validate_template

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
    "code",
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


def campaign_launch(campaign: Campaign, now: datetime, *, simulate: bool = False) -> LaunchResult:
    """Create the campaign's messages and make it active. Runs in one transaction.

    ``simulate`` starts it as a simulation, which a number in test mode requires and a
    number connected to WhatsApp refuses (goteo.simulation).
    """
    launch_checks(campaign, now, simulate)
    promotion = campaign.promotion
    text_for = Content.of(campaign).texts(campaign.pk, campaign.unique_codes)
    codes = PersonCodes(promotion.code, campaign.pk) if campaign.unique_codes else None

    try:
        contacts = audience(campaign, now=now)
    except AudienceError as exc:
        raise LaunchError(str(exc)) from None
    result = LaunchResult()
    table = MessageTable(campaign.pk, now)
    try:
        launch_messages(campaign, now, simulate, contacts, table, text_for, codes, result)
    except (IntegrityError, driver_integrity_error()):  # COPY raises the driver's own
        if codes is None:
            raise
        # Another launch of the same promotion drew one of these codes at the same moment.
        raise LaunchError("No se pudieron asignar los códigos; vuelva a iniciar la campaña.") from None
    result.total = campaign.total_count
    if campaign.daily_limit_warning:
        result.warnings.append(campaign.daily_limit_warning)
    warning, result.forecast = forecast_warning(campaign, now)
    if warning:
        result.warnings.append(warning)
    if result.pending == 0:
        campaign.complete_if_done(now)
    return result


def launch_checks(campaign: Campaign, now: datetime, simulate: bool) -> None:
    """What a launch refuses (a campaign or an automation): LaunchError says why, in Spanish."""
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise LaunchError(
            f"La campaña {campaign.pk} ya fue iniciada (estado: {campaign.get_status_display()})."
        )
    refusal = launch_refusal(campaign, simulate) or launch_problem(campaign)
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
    if campaign.unique_codes and not shows_code(campaign):
        raise LaunchError(
            "La campaña da un código a cada persona, pero el mensaje no lo muestra: "
            "agregue {codigo} a la plantilla."
        )


def driver_integrity_error() -> type[Exception]:
    """The database driver's IntegrityError: a COPY on the raw cursor is not wrapped by Django's."""
    error: type[Exception] = connection.Database.IntegrityError  # type: ignore[attr-defined]
    return error


def shows_code(campaign: Campaign) -> bool:
    """Whether the person reads their code: in the text, or in the provider template's values."""
    params = (campaign.provider_template or {}).get("params") or []
    used = set(validate_template(campaign.template)) | {canonical(p) for p in params}
    return "codigo" in used


def launch_messages(
    campaign: Campaign,
    now: datetime,
    simulate: bool,
    contacts: Any,
    table: MessageTable,
    text_for: Callable[[int | None, str, str], str],
    codes: PersonCodes | None,
    result: LaunchResult,
) -> None:
    """The launch's transaction: claim the draft, write every message, count them."""
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
            chunk_codes = iter(codes.fresh(len(chunk))) if codes is not None else None
            table.write(launch_rows(chunk, recipients, table, text_for, result, chunk_codes))
        campaign.recount()


class PersonCodes:
    """The codes of one launch: drawn a chunk at a time, none repeated within the launch,
    none already on another message (one query per chunk, on the codes' unique index).

    The query is left out when no other campaign gave codes that start the same way: the
    first launch with codes of a promotion, the usual case, has nothing to look up.
    """

    def __init__(self, promotion_code: str, campaign_id: int = 0) -> None:
        self.promotion_code = promotion_code
        self.drawn: set[str] = set()
        prefix = code_prefix(promotion_code)
        others = Campaign.objects.filter(unique_codes=True).exclude(pk=campaign_id)
        launched = others.exclude(status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED])
        used = launched.values_list("promotion__code", flat=True).distinct()
        self.look_up = any(code_prefix(code) == prefix for code in used)

    def fresh(self, count: int) -> list[str]:
        codes = draw_codes(self.promotion_code, count, self.drawn)
        while self.look_up:
            taken = set(
                Message.objects.exclude(code="")
                .filter(code__in=codes)
                .order_by()
                .values_list("code", flat=True)
            )
            if not taken:
                return codes
            kept = [code for code in codes if code not in taken]
            codes = kept + draw_codes(self.promotion_code, count - len(kept), self.drawn)
        return codes


def launch_rows(
    chunk: list[tuple[int, str, str, bool, bool, bool]],
    recipients: Recipients,
    table: MessageTable,
    text_for: Callable[[int | None, str, str], str],
    result: LaunchResult,
    codes: Iterator[str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The message rows of a chunk of contacts, counted into ``result`` as they are made;
    ``codes`` gives each person to be sent to their own code."""
    for contact_id, full_name, phone, consent, opted_out, landline in chunk:
        reason = recipients.reason(contact_id, phone, consent, opted_out, landline)
        if not reason:
            result.pending += 1
            code = next(codes) if codes is not None else ""
            yield table.row(contact_id, full_name, phone, text_for(contact_id, full_name, code), code=code)
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
        code: str = "",
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
            code,
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
