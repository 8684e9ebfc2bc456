"""Which column of a contacts file holds the name, the phone, the consent and the tags.

Headers are matched without case, accents, underscores or hyphens, so ``Teléfono``,
``telefono`` and ``TELEFONO`` are the same. A name may come in one column or split into
given names and surnames (``Nombres;Apellidos``, ``first_name,last_name``), which are
joined. When several phone columns exist the likeliest WhatsApp one is used: a
``whatsapp`` column, then a mobile one (``celular``), then a plain ``telefono``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from goteo.csv_files import ImportFileError, column_letter

# A name already whole: never joined with a surname column.
FULL_NAME = {
    "full name",
    "fullname",
    "nombre completo",
    "nombre y apellido",
    "nombre y apellidos",
    "nombres y apellidos",
    "nombre del paciente",
    "nombre del cliente",
}
GIVEN_NAME = {"name", "nombre", "nombres", "first name", "firstname", "primer nombre", "paciente", "cliente"}
SURNAME = {
    "apellido",
    "apellidos",
    "last name",
    "lastname",
    "surname",
    "primer apellido",
    "segundo apellido",
}
# Best first: the column most likely to hold the number that has WhatsApp.
PHONE = (
    {"whatsapp", "numero whatsapp", "numero de whatsapp"},
    {"celular", "movil", "mobile", "cell", "telefono celular", "telefono movil", "numero celular"},
    {"phone", "telefono", "tel", "numero", "numero de telefono"},
)
CONSENT = {"consent", "consentimiento", "acepta", "autoriza", "acepta promociones", "autoriza promociones"}
TAGS = {"tags", "etiquetas", "etiqueta"}
KNOWN = FULL_NAME | GIVEN_NAME | SURNAME | CONSENT | TAGS | set().union(*PHONE)


def header_key(header: str) -> str:
    """``" Teléfono_Celular "`` -> ``"telefono celular"``."""
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[_\-.]", " ", plain).lower().split())


@dataclass(frozen=True)
class Columns:
    """Where each field is in the file's records; ``name`` may be several columns joined."""

    headers: tuple[str, ...]
    name: tuple[int, ...]
    phone: int
    consent: int
    tags: int | None

    def field_of(self, index: int) -> str:
        """The Spanish name of what column ``index`` holds, or its header if goteo ignores it."""
        if index in self.name:
            return "nombre"
        if index == self.phone:
            return "teléfono"
        if index == self.consent:
            return "consentimiento"
        if index == self.tags:
            return "etiquetas"
        header = self.headers[index].strip() if index < len(self.headers) else ""
        return f"columna {column_letter(index)}" + (f" ({header})" if header else "")

    def mapping(self) -> list[tuple[str, str]]:
        """(field, the file's column or columns) for a person to check before importing."""

        def shown(index: int) -> str:
            return f"{self.headers[index].strip()} (columna {column_letter(index)})"

        found = [
            ("Nombre", " + ".join(shown(i) for i in self.name)),
            ("Teléfono", shown(self.phone)),
            ("Consentimiento", shown(self.consent)),
        ]
        found.append(("Etiquetas", shown(self.tags) if self.tags is not None else "ninguna (opcional)"))
        return found

    def ignored(self) -> list[str]:
        """The headers of the columns goteo does not read."""
        used = {*self.name, self.phone, self.consent, self.tags}
        return [h.strip() for i, h in enumerate(self.headers) if i not in used and h.strip()]


def map_headers(headers: list[str]) -> Columns:
    """Find the columns in the header row; ``ImportFileError`` if one is missing or repeated."""
    keys = [header_key(h) for h in headers]
    first_at: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key not in KNOWN:
            continue
        if key in first_at:
            raise ImportFileError(
                f"La columna «{headers[index].strip()}» aparece dos veces "
                f"(columnas {column_letter(first_at[key])} y {column_letter(index)}): "
                "goteo no puede saber cuál usar. Deje solo una y vuelva a importar."
            )
        first_at[key] = index

    def first(aliases: set[str]) -> int | None:
        return next((i for i, key in enumerate(keys) if key in aliases), None)

    full = first(FULL_NAME)
    given = first(GIVEN_NAME)
    if full is not None:
        name: tuple[int, ...] = (full,)
    elif given is not None:
        name = (given, *(i for i, key in enumerate(keys) if key in SURNAME))
    else:
        name = ()
    phone = next((i for aliases in PHONE if (i := first(aliases)) is not None), None)
    consent = first(CONSENT)
    missing = [
        label
        for label, index in (("nombre", name or None), ("teléfono", phone), ("consentimiento", consent))
        if index is None
    ]
    if missing or phone is None or consent is None:
        raise ImportFileError(
            f"Faltan columnas obligatorias: {', '.join(missing)}. "
            f"Encabezados encontrados: {', '.join(h.strip() for h in headers) or '(ninguno)'}. "
            "Se esperan nombre (o nombres y apellidos), teléfono, consentimiento y, opcional, etiquetas."
        )
    return Columns(tuple(headers), name, phone, consent, first(TAGS))
