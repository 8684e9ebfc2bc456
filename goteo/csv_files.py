"""Reading the CSV files a shop exports from a spreadsheet or its own system.

Shared by the contact and exclusion imports: the bytes become text (UTF-8, Windows-1252
as Excel writes it, or the UTF-16 of Excel's "Unicode text"), files that are not CSV
are refused with what they are, and records come with the line each one starts on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

MAX_BYTES = 50 * 1024 * 1024
# A real contact sheet has no cell this long: one is a pasted document or a row broken by
# a stray quote, and it costs its row, not the file.
MAX_CELL = 10_000
DELIMITERS = (";", ",", "\t")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was changed."""


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def read_text(data: bytes) -> str:
    """The file's text, or ``ImportFileError`` saying what the file is instead."""
    if len(data) > MAX_BYTES:
        raise ImportFileError("El archivo supera 50 MB.")
    # Signatures: a zip (PK\x03\x04) holds .xlsx and .ods books; D0 CF 11 E0 is the
    # compound file of the old .xls.
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "El archivo es un libro de Excel (.xlsx) u otro documento comprimido, no un CSV. "
            "En Excel use «Guardar como» y elija «CSV UTF-8 (delimitado por comas)»."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "El archivo es un libro de Excel antiguo (.xls), no un CSV. "
            "En Excel use «Guardar como» y elija «CSV UTF-8 (delimitado por comas)»."
        )
    try:
        # UTF-16 with its byte-order mark is Excel's "Texto Unicode", tab-separated.
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        text = data.decode("utf-16") if utf16 else decode(data)
    except UnicodeDecodeError:
        raise ImportFileError("No se pudo leer el archivo: guárdelo como CSV UTF-8.") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFileError(
            f"El archivo tiene caracteres nulos (bytes en cero) desde la línea {line}: no es texto "
            "plano o se dañó al exportarlo. Ábralo en la hoja de cálculo y guárdelo de nuevo "
            "como CSV UTF-8."
        )
    return text


def delimiter_of(first_line: str) -> str:
    """The separator the header line uses most: semicolon, comma or tab."""
    return max(DELIMITERS, key=first_line.count)


def records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each record of a CSV text with the line it starts on (1 is the header).

    A malformed file (an unclosed quote, say) raises ``ImportFileError`` naming the line.
    Cells are not length-checked here: csv's own limit would refuse the whole file for
    one long cell, so it is lifted to the file size and ``too_long`` judges each row.
    """
    if not text.strip():
        raise ImportFileError("El archivo está vacío.")
    if csv.field_size_limit() < MAX_BYTES + 1:
        csv.field_size_limit(MAX_BYTES + 1)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter_of(text.splitlines()[0]), strict=True
    )
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"CSV mal formado en la línea {reader.line_num}: {csv_problem(exc)}.") from None


def csv_problem(exc: csv.Error) -> str:
    """What Python's csv error means, in the shop's words."""
    text = str(exc)
    if "unexpected end of data" in text or "EOF" in text:
        return 'unas comillas (") se abren y no se cierran'
    if "expected after" in text:
        return "hay texto pegado después de unas comillas de cierre"
    if "new-line" in text:
        return "hay un salto de línea suelto dentro de una celda"
    return "no tiene la forma de un CSV"


def too_long(record: list[str]) -> int | None:
    """The index of the first cell over MAX_CELL characters, if any."""
    return next((i for i, cell in enumerate(record) if len(cell) > MAX_CELL), None)


def column_letter(index: int) -> str:
    """A column's name in a spreadsheet: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
