"""Importing contacts from a CSV file exported from a spreadsheet or the shop's system.

Columns: name, phone, consent, and optionally tags (Spanish headers nombre, telefono,
consentimiento, etiquetas work too). A file that cannot be read as such a CSV imports
nothing; a bad row is reported with its line number and reason and the rest import.
Re-importing never clears an opt-out.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from goteo.models import Contact, Tag
from goteo.phones import InvalidPhone, normalize_phone

HEADER_ALIASES = {
    "name": {"name", "nombre", "full_name", "nombre completo", "paciente"},
    "phone": {"phone", "telefono", "teléfono", "celular", "movil", "móvil", "whatsapp"},
    "consent": {"consent", "consentimiento", "acepta", "autoriza"},
    "tags": {"tags", "etiquetas", "etiqueta"},
}
YES = {"si", "sí", "s", "yes", "y", "true", "1", "x", "verdadero"}
NO = {"no", "n", "false", "0", "", "falso"}
MAX_BYTES = 50 * 1024 * 1024


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


@dataclass
class ImportReport:
    """What an import did, with every rejected row and why."""

    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


@dataclass
class Row:
    line: int
    full_name: str
    phone: str
    phone_raw: str
    consent: bool
    tags: list[str]


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def map_headers(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header.strip().lower()
        for column, aliases in HEADER_ALIASES.items():
            if key in aliases and column not in found:
                found[column] = index
    missing = [c for c in ("name", "phone", "consent") if c not in found]
    if missing:
        raise ImportFileError(
            f"Faltan columnas obligatorias: {', '.join(missing)}. "
            f"Encabezados encontrados: {', '.join(h.strip() for h in headers) or '(ninguno)'}. "
            "Se esperan name, phone, consent y opcionalmente tags."
        )
    return found


def parse_rows(text: str, region: str | None = None) -> tuple[list[Row], list[tuple[int, str]]]:
    """Parse the CSV text into valid rows and (line, reason) rejections."""
    if not text.strip():
        raise ImportFileError("El archivo está vacío.")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        headers = next(reader)
        columns = map_headers(headers)
        rows: list[Row] = []
        rejected: list[tuple[int, str]] = []
        seen: dict[tuple[str, str], int] = {}
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue

            def cell(name: str, record: list[str] = record) -> str:
                index = columns.get(name)
                return record[index].strip() if index is not None and index < len(record) else ""

            full_name = " ".join(cell("name").split())
            if not full_name:
                rejected.append((line, "name: el nombre está vacío"))
                continue
            try:
                phone = normalize_phone(cell("phone"), region)
            except InvalidPhone as exc:
                rejected.append((line, f"phone: {exc}"))
                continue
            consent_text = cell("consent").lower()
            if consent_text not in YES | NO:
                rejected.append((line, f"consent: valor {cell('consent')!r} no reconocido (use si/no)"))
                continue
            key = (phone, full_name.casefold())
            if key in seen:
                rejected.append((line, f"phone: repetido con el mismo nombre en la línea {seen[key]}"))
                continue
            seen[key] = line
            tags = [t.strip() for t in re.split(r"[;,|]", cell("tags")) if t.strip()]
            rows.append(Row(line, full_name, phone, cell("phone"), consent_text in YES, tags))
    except csv.Error as exc:
        raise ImportFileError(f"CSV mal formado en la línea {reader.line_num}: {exc}") from None
    except StopIteration:
        raise ImportFileError("El archivo no tiene encabezados.") from None
    return rows, rejected


def import_contacts(source: Path | bytes, now: datetime, source_name: str = "csv") -> ImportReport:
    """Import contacts from a CSV path or its bytes, all in one transaction."""
    data = source.read_bytes() if isinstance(source, Path) else source
    if len(data) > MAX_BYTES:
        raise ImportFileError("El archivo supera 50 MB.")
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise ImportFileError("No se pudo leer el archivo: guárdelo como CSV UTF-8.") from None
    if "\x00" in text:
        raise ImportFileError("El archivo no es un CSV de texto (¿es un .xlsx?). Guárdelo como CSV.")
    rows, rejected = parse_rows(text)
    report = ImportReport(rejected=rejected)
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
            to_update.append(contact)
            if row.tags:
                tags_for.append((contact.pk, row.tags))
        created_ids = insert_contacts(to_create, now, source_name)
        tags_for += [(pk, row.tags) for pk, row in zip(created_ids, to_create, strict=True) if row.tags]
        Contact.objects.bulk_update(
            to_update, ["consent", "consent_at", "consent_source", "phone_raw"], batch_size=2000
        )
        attach_tags(tags_for)
    report.created, report.updated = len(to_create), len(to_update)
    return report


# New contacts are written as plain rows: bulk_create built a model instance and converted
# its twelve fields for every row, more than half of importing 100,000 of them.
INSERT_BATCH = 1000
NEW_CONTACT = (
    "full_name", "phone", "phone_raw", "consent", "consent_at", "consent_source",
    "opted_out", "opted_out_at", "opt_out_source", "created_at", "updated_at",
)  # fmt: skip


def insert_contacts(rows: list[Row], now: datetime, source_name: str) -> list[int]:
    """Create a contact for each of ``rows``; their ids, in the same order."""
    table = connection.ops.quote_name(Contact._meta.db_table)
    column = {f.name: f.column for f in Contact._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(column[name]) for name in NEW_CONTACT)
    consented_at = connection.ops.adapt_datetimefield_value(now)
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            people = [
                (row.full_name, row.phone, row.phone_raw, row.consent, consented_at if row.consent else None)
                for row in batch
            ]
            if connection.vendor == "postgresql":
                # One array per column: the statement stays the same size whatever the batch.
                sql = (
                    f"INSERT INTO {table} ({columns}) SELECT n, p, r, c, ca,"
                    " CASE WHEN c THEN %s ELSE '' END, false, NULL, '', %s, %s"
                    " FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::boolean[],"
                    " %s::timestamptz[]) AS u (n, p, r, c, ca) RETURNING id"
                )
                cursor.execute(sql, [source_name, created, created, *map(list, zip(*people, strict=True))])
            else:
                one = "(%s, %s, %s, %s, %s, %s, 0, NULL, '', %s, %s)"
                params: list[Any] = []
                for name, phone, raw, consent, consent_at in people:
                    params += [
                        name,
                        phone,
                        raw,
                        consent,
                        consent_at,
                        source_name if consent else "",
                        created,
                        created,
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
