"""Importing contacts from a CSV file exported from a spreadsheet or the shop's system.

Columns: name (or given names and surnames), phone, consent, and optionally tags, a birth
date and a last visit (YYYY-MM-DD or DD/MM/YYYY), with Spanish or English headers
(goteo.contact_columns); any other column is kept as an attribute of the contact. A file
that cannot be read as such a CSV imports nothing; a bad row is reported with its line
number and reason and the rest import. Rows that import but will not all be messaged (a landline, a phone another name
already has) come back as warnings with their lines. Re-importing never clears an opt-out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from goteo.contact_columns import Columns, map_headers
from goteo.csv_files import MAX_BYTES, ImportFileError, column_letter, decode, read_text, records, too_long
from goteo.models import Contact, Tag
from goteo.models.messages import landlines_allowed
from goteo.phones import InvalidPhone, read_phone, shorten

__all__ = ["MAX_BYTES", "ImportFileError", "decode", "import_contacts", "parse_rows"]

YES = {"si", "sí", "s", "yes", "y", "true", "1", "x", "verdadero"}
NO = {"no", "n", "false", "0", "", "falso"}
# The longest values a contact keeps (Contact.full_name, phone_raw and Tag.name).
MAX_NAME, MAX_PHONE, MAX_TAG = 200, 64, 64
SAMPLE_ROWS = 5
DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def read_date(text: str) -> date:
    """``1980-03-05`` or ``05/03/1980`` (day first) -> the date; ValueError otherwise."""
    if match := ISO_DAY.fullmatch(text):
        year, month, day = match.groups()
    elif match := DAY_FIRST.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise ValueError(text)
    return date(int(year), int(month), int(day))


@dataclass(slots=True)
class Row:
    line: int
    full_name: str
    phone: str
    phone_raw: str
    consent: bool
    tags: list[str]
    landline: bool = False
    birth_date: date | None = None
    last_visit: date | None = None
    attributes: dict[str, str] | None = None  # None, not {}: 100,000 rows, most without any


@dataclass
class SampleRow:
    """One of the first rows as a person sees it before importing: what was read and the verdict."""

    line: int
    name: str
    phone: str
    consent: str
    outcome: str
    verdict: str  # "ok", "warning" (imported, look at it), "repeated" or "rejected"


@dataclass
class ParsedFile:
    """A file read row by row: what will import, what will not and why, and what to look at."""

    columns: Columns
    rows: list[Row] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[tuple[int, int]] = field(default_factory=list)  # (line, the earlier same line)
    sample: list[SampleRow] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did, with every rejected row and why, and every row to look at.

    ``warnings`` are rows imported that a campaign will not send to as they are;
    ``repeated`` are rows identical in name and phone to an earlier line, taken once.
    """

    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[tuple[int, int]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def parse_rows(text: str, region: str | None = None) -> ParsedFile:
    """Read the CSV text into rows to import, rejections, warnings and a sample of the first rows."""
    lines = records(text)
    try:
        _line, headers = next(lines)
    except StopIteration:
        raise ImportFileError("El archivo no tiene encabezados.") from None
    parsed = ParsedFile(map_headers(headers))
    reader = RowReader(parsed, region, warn_landlines=not landlines_allowed())
    for line, record in lines:
        if any(cell.strip() for cell in record):
            reader.read(line, record)
    return parsed


class RowReader:
    """Turns records into ``parsed``'s rows, rejections and warnings, remembering phones seen."""

    def __init__(self, parsed: ParsedFile, region: str | None, warn_landlines: bool) -> None:
        self.parsed, self.region, self.warn_landlines = parsed, region, warn_landlines
        self.first_with_phone: dict[str, tuple[int, str]] = {}
        self.seen: dict[tuple[str, str], int] = {}

    def read(self, line: int, record: list[str]) -> None:
        columns = self.parsed.columns

        def cell(index: int | None) -> str:
            return record[index].strip() if index is not None and index < len(record) else ""

        name = " ".join(" ".join(cell(i) for i in columns.name).split())
        phone_raw, consent_raw = cell(columns.phone), cell(columns.consent)
        row, problem = self.row(line, record, name, phone_raw, consent_raw, cell(columns.tags))
        repeat = row is None and self.parsed.repeated and self.parsed.repeated[-1][0] == line
        if row is None and not repeat:
            self.parsed.rejected.append((line, problem))
        if len(self.parsed.sample) < SAMPLE_ROWS:
            if row is None:
                verdict, consent = ("repeated" if repeat else "rejected"), shorten(consent_raw)
            else:
                verdict, consent = ("warning" if problem else "ok"), ("sí" if row.consent else "no")
            outcome = problem or "se importa"
            self.parsed.sample.append(
                SampleRow(line, shorten(name), shorten(phone_raw), consent, outcome, verdict)
            )

    def row(
        self, line: int, record: list[str], name: str, phone_raw: str, consent_raw: str, tags_text: str
    ) -> tuple[Row | None, str]:
        """The row to import (or None) and what to say about it: its rejection or warning."""
        long_cell = too_long(record)
        if long_cell is not None:
            size = f"{len(record[long_cell]):,}".replace(",", ".")
            field_name = self.parsed.columns.field_of(long_cell)
            return (
                None,
                f"{field_name}: tiene {size} caracteres, demasiado para una celda (¿falta cerrar unas comillas?)",
            )
        if not name:
            return None, "nombre: está vacío"
        if len(name) > MAX_NAME:
            return None, f"nombre: tiene {len(name)} caracteres; el máximo es {MAX_NAME}"
        if len(phone_raw) > MAX_PHONE:
            return None, f"teléfono: tiene {len(phone_raw)} caracteres; el máximo es {MAX_PHONE}"
        try:
            phone = read_phone(phone_raw, self.region)
        except InvalidPhone as exc:
            return None, f"teléfono: {exc.detail}"
        consent = consent_raw.lower()
        if consent not in YES | NO:
            return None, f"consentimiento: valor {shorten(consent_raw)!r} no reconocido (use si/no)"
        tags = [t.strip() for t in re.split(r"[;,|]", tags_text) if t.strip()]
        long_tag = next((t for t in tags if len(t) > MAX_TAG), None)
        if long_tag is not None:
            return (
                None,
                f"etiquetas: «{shorten(long_tag)}» tiene {len(long_tag)} caracteres; el máximo es {MAX_TAG}",
            )
        columns = self.parsed.columns
        dates: list[date | None] = [None, None]
        for i, index in enumerate((columns.birth_date, columns.last_visit)):
            text = record[index].strip() if index is not None and index < len(record) else ""
            if index is None or not text:
                continue
            try:
                dates[i] = read_date(text)
            except ValueError:
                return None, self.bad_date(index, text)
        key = (phone.e164, name.casefold())
        if key in self.seen:
            earlier = self.seen[key]
            self.parsed.repeated.append((line, earlier))
            return None, f"igual a la línea {earlier} (mismo nombre y teléfono); se toma una vez"
        self.seen[key] = line
        attributes = {
            columns.attribute_name(i): record[i].strip()
            for i in columns.attributes
            if i < len(record) and record[i].strip()
        }
        born, visit = dates
        row = Row(
            line,
            name,
            phone.e164,
            phone_raw,
            consent in YES,
            tags,
            phone.landline,
            born,
            visit,
            attributes or None,
        )
        self.parsed.rows.append(row)
        warning = self.warning(line, row)
        if warning:
            self.parsed.warnings.append((line, warning))
        return row, warning

    def bad_date(self, index: int, text: str) -> str:
        """Why a date cell is refused, naming its column as the person sees it."""
        columns = self.parsed.columns
        where = f"{columns.field_of(index)} (columna {column_letter(index)})"
        return f"{where}: «{shorten(text)}» no es una fecha válida; escríbala como 2024-03-31 o 31/03/2024"

    def warning(self, line: int, row: Row) -> str:
        first = self.first_with_phone.setdefault(row.phone, (line, row.full_name))
        if first[0] != line:
            return (
                f"teléfono: el mismo número que la línea {first[0]} ({first[1]}) con otro nombre; "
                "se guardan los dos, pero cada campaña escribe a ese número una sola vez"
            )
        if row.landline and self.warn_landlines:
            return (
                f"teléfono: {shorten(row.phone_raw)} es un teléfono fijo; WhatsApp no llega a los fijos, "
                "así que se guarda pero las campañas lo omiten"
            )
        return ""


def import_contacts(source: Path | bytes, now: datetime, source_name: str = "csv") -> ImportReport:
    """Import contacts from a CSV path or its bytes, all in one transaction."""
    data = source.read_bytes() if isinstance(source, Path) else source
    parsed = parse_rows(read_text(data))
    rows = parsed.rows
    report = ImportReport(rejected=parsed.rejected, warnings=parsed.warnings, repeated=parsed.repeated)
    with transaction.atomic():
        existing: dict[tuple[str, str], Contact] = {}
        phones = {row.phone for row in rows}
        for contact in (
            Contact.objects.filter(phone__in=phones) if len(phones) < 5000 else Contact.objects.all()
        ):
            existing.setdefault((contact.phone, contact.full_name.casefold()), contact)
        to_create: list[Row] = []
        to_update: list[Contact] = []
        tags_for: list[tuple[int, list[str]]] = []
        for row in rows:
            found = existing.get((row.phone, row.full_name.casefold()))
            if found is None:
                to_create.append(row)
                continue
            contact = found
            if row.consent and not contact.consent:
                contact.consent_at, contact.consent_source = now, source_name
            contact.consent = row.consent
            contact.phone_raw = row.phone_raw
            contact.landline = row.landline
            contact.birth_date = row.birth_date or contact.birth_date
            contact.last_visit = row.last_visit or contact.last_visit
            if row.attributes:
                stored = contact.attributes if isinstance(contact.attributes, dict) else {}
                contact.attributes = {**stored, **row.attributes}
            to_update.append(contact)
            if row.tags:
                tags_for.append((contact.pk, row.tags))
        created_ids = insert_contacts(to_create, now, source_name)
        tags_for += [(pk, row.tags) for pk, row in zip(created_ids, to_create, strict=True) if row.tags]
        Contact.objects.bulk_update(to_update, updated_fields(parsed), batch_size=2000)
        attach_tags(tags_for)
    report.created, report.updated = len(to_create), len(to_update)
    return report


def updated_fields(parsed: ParsedFile) -> list[str]:
    """The fields a re-import rewrites: the dates and attributes only when the file has them."""
    columns = parsed.columns
    fields = ["consent", "consent_at", "consent_source", "phone_raw", "landline"]
    fields += [name for name in ("birth_date", "last_visit") if getattr(columns, name) is not None]
    return fields + (["attributes"] if columns.attributes else [])


# New contacts are written as plain rows: bulk_create built a model instance and converted
# its twelve fields for every row, more than half of importing 100,000 of them.
INSERT_BATCH = 1000
NEW_CONTACT = (
    "full_name", "phone", "phone_raw", "landline", "consent", "consent_at", "consent_source",
    "opted_out", "opted_out_at", "opt_out_source", "created_at", "updated_at",
    "birth_date", "last_visit", "attributes", "source_ref",
)  # fmt: skip


def insert_contacts(rows: list[Row], now: datetime, source_name: str) -> list[int]:
    """Create a contact for each of ``rows``; their ids, in the same order."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    column = {f.name: f.column for f in Contact._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(column[name]) for name in NEW_CONTACT)
    consented_at = connection.ops.adapt_datetimefield_value(now)
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    ids: list[int] = []
    day = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            # Dates and attributes are bound only when the batch has some: most files have none.
            extra = any(row.birth_date or row.last_visit or row.attributes for row in batch)
            people = [
                (
                    row.full_name,
                    row.phone,
                    row.phone_raw,
                    row.landline,
                    row.consent,
                    consented_at if row.consent else None,
                    *(
                        (day(row.birth_date), day(row.last_visit), json.dumps(row.attributes or {}))
                        if extra
                        else ()
                    ),
                )
                for row in batch
            ]
            if connection.vendor == "postgresql":
                # One array per column: the statement stays the same size whatever the batch.
                more = (
                    ("b, v, a::jsonb", ", %s::date[], %s::date[], %s::text[]", ", b, v, a")
                    if extra
                    else ("NULL, NULL, '{}'::jsonb", "", "")
                )
                sql = (
                    f"INSERT INTO {table} ({columns}) SELECT n, p, r, l, c, ca,"
                    f" CASE WHEN c THEN %s ELSE '' END, false, NULL, '', %s, %s, {more[0]}, ''"
                    " FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::boolean[],"
                    f" %s::boolean[], %s::timestamptz[]{more[1]}) AS u (n, p, r, l, c, ca{more[2]}) RETURNING id"
                )
                cursor.execute(sql, [source_name, created, created, *map(list, zip(*people, strict=True))])
            else:
                tail = "%s, %s, %s" if extra else "NULL, NULL, '{}'"
                one = f"(%s, %s, %s, %s, %s, %s, %s, 0, NULL, '', %s, %s, {tail}, '')"
                params: list[Any] = []
                for name, phone, raw, landline, consent, consent_at, *dated in people:
                    params += [
                        name,
                        phone,
                        raw,
                        landline,
                        consent,
                        consent_at,
                        source_name if consent else "",
                        created,
                        created,
                        *dated,
                    ]
                values = ", ".join([one] * len(batch))
                cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING id", params)
            ids += [pk for (pk,) in cursor.fetchall()]
    return ids


def attach_tags(tags_for: list[tuple[int, list[str]]]) -> None:
    """Tag each contact id with its tag names, creating the tags that do not exist yet."""
    names = {name for _pk, names in tags_for for name in names}
    if not names:
        return
    Tag.objects.bulk_create([Tag(name=n[:64]) for n in names], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=[n[:64] for n in names]).values_list("name", "id"))
    through = Contact.tags.through._meta
    table = connection.ops.quote_name(through.db_table)
    column = {f.name: f.column for f in through.concrete_fields}
    contact, tag = (connection.ops.quote_name(column[name]) for name in ("contact", "tag"))
    links = list({(pk, tag_ids[name[:64]]) for pk, names in tags_for for name in names})
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({contact}, {tag}) VALUES (%s, %s) ON CONFLICT DO NOTHING", links
        )
