"""Importing exclusion lists: numbers that must never be messaged, from a CSV file.

Colombia's Registro de Números Excluidos (RNE) or any do-not-contact list. The file has a
phone column (phone, telefono, celular, numero...) and optionally a note; a file of bare
numbers, one per line with no header, works too. As with contacts (goteo.importing): a
file that cannot be read as such a CSV imports nothing; a bad row is reported with its
line number and the rest import. Importing skips, in every campaign, the pending
messages to the listed numbers; future campaigns skip them at launch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef

from goteo.csv_files import ImportFileError, read_text
from goteo.models import Campaign, ExcludedPhone, Message, MessageStatus, SkipReason
from goteo.phones import InvalidPhone, normalize_phone

PHONE_HEADERS = {
    "phone",
    "telefono",
    "teléfono",
    "celular",
    "movil",
    "móvil",
    "numero",
    "número",
    "whatsapp",
    "linea",
    "línea",
    "number",
    "msisdn",
}
NOTE_HEADERS = {"note", "nota", "motivo", "observacion", "observación", "comentario"}
DEFAULT_LIST = "general"
BATCH_SIZE = 5000


@dataclass
class ExclusionReport:
    """What an import did, with every rejected row and why."""

    added: int = 0
    already: int = 0
    removed: int = 0  # with replace: numbers no longer on the list
    repeated: int = 0  # rows repeating a number earlier in the file
    skipped_messages: int = 0  # pending messages skipped in running campaigns
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ExclusionRow:
    line: int
    phone: str
    note: str


def find_columns(first: list[str]) -> tuple[int, int | None, bool]:
    """(phone column, note column, whether the first row is a header)."""
    keys = [cell.strip().lower() for cell in first]
    phone = next((i for i, key in enumerate(keys) if key in PHONE_HEADERS), None)
    note = next((i for i, key in enumerate(keys) if key in NOTE_HEADERS), None)
    if phone is not None:
        return phone, note, True
    if first and first[0].strip():
        try:
            normalize_phone(first[0])
        except InvalidPhone:
            pass
        else:
            return 0, None, False  # bare numbers, no header
    raise ImportFileError(
        "Falta la columna de teléfonos. "
        f"Encabezados encontrados: {', '.join(c.strip() for c in first) or '(ninguno)'}. "
        "Use una columna phone (o telefono, celular, numero) o un número por línea."
    )


def parse_exclusions(
    text: str, region: str | None = None
) -> tuple[list[ExclusionRow], list[tuple[int, str]], int]:
    """The valid rows, the (line, reason) rejections and how many rows repeated a number."""
    if not text.strip():
        raise ImportFileError("El archivo está vacío.")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[ExclusionRow] = []
    rejected: list[tuple[int, str]] = []
    seen: set[str] = set()
    repeated = 0
    try:
        first = next(reader)
        phone_col, note_col, has_header = find_columns(first)
        records: Iterator[list[str]] = reader if has_header else _with_first(first, reader)
        for record in records:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            raw = record[phone_col].strip() if phone_col < len(record) else ""
            try:
                phone = normalize_phone(raw, region)
            except InvalidPhone as exc:
                rejected.append((line, f"teléfono: {exc.detail}"))
                continue
            if phone in seen:
                repeated += 1
                continue
            seen.add(phone)
            note = record[note_col].strip() if note_col is not None and note_col < len(record) else ""
            rows.append(ExclusionRow(line, phone, note[:200]))
    except csv.Error as exc:
        raise ImportFileError(f"CSV mal formado en la línea {reader.line_num}: {exc}") from None
    except StopIteration:
        raise ImportFileError("El archivo no tiene filas.") from None
    return rows, rejected, repeated


def _with_first(first: list[str], reader: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from reader


def import_exclusions(
    source: Path | bytes,
    now: datetime,
    *,
    list_name: str = DEFAULT_LIST,
    source_name: str = "csv",
    replace: bool = False,
) -> ExclusionReport:
    """Add a file's numbers to ``list_name`` (``replace``: the list becomes the file), in one transaction."""
    text = read_text(source.read_bytes() if isinstance(source, Path) else source)
    list_name = (list_name or DEFAULT_LIST).strip()[:64]
    rows, rejected, repeated = parse_exclusions(text)
    report = ExclusionReport(rejected=rejected, repeated=repeated)
    with transaction.atomic():
        on_list = ExcludedPhone.objects.filter(list_name=list_name)
        before = on_list.count()
        if replace:
            keep = {row.phone for row in rows}
            gone = [p for p in on_list.values_list("phone", flat=True) if p not in keep]
            for start in range(0, len(gone), BATCH_SIZE):
                on_list.filter(phone__in=gone[start : start + BATCH_SIZE]).delete()
            report.removed = len(gone)
        ExcludedPhone.objects.bulk_create(
            (
                ExcludedPhone(
                    phone=r.phone, list_name=list_name, source=source_name[:200], note=r.note, added_at=now
                )
                for r in rows
            ),
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )
        report.added = on_list.count() - (before - report.removed)
        report.already = len(rows) - report.added
        report.skipped_messages = skip_excluded_pending(now)
    return report


def skip_excluded_pending(now: datetime) -> int:
    """Skip every pending message to a number on any list; returns how many.

    A campaign left with nothing to send is completed, as if its last message had gone.
    """
    listed = ExcludedPhone.objects.filter(phone=OuterRef("phone"))
    pending = Message.objects.filter(status=MessageStatus.PENDING).filter(Exists(listed))
    campaign_ids = set(pending.values_list("campaign_id", flat=True).distinct())
    skipped = pending.skip_pending(SkipReason.EXCLUDED, now, by="lista de exclusión")
    for campaign in Campaign.objects.filter(pk__in=campaign_ids):
        campaign.complete_if_done(now)
    return skipped


def remove_exclusions(phones: list[str], list_name: str | None = None) -> int:
    """Take numbers off the lists (or off one list); returns how many entries went.

    Messages already skipped stay skipped; later campaigns include the numbers again.
    """
    normalized = [normalize_phone(p) for p in phones]
    entries = ExcludedPhone.objects.filter(phone__in=normalized)
    if list_name:
        entries = entries.filter(list_name=list_name)
    deleted, _by_model = entries.delete()
    return deleted


def remove_list(list_name: str) -> int:
    """Delete a whole list; returns how many numbers it had."""
    deleted, _by_model = ExcludedPhone.objects.filter(list_name=list_name).delete()
    return deleted
