"""Which column of a contacts file holds the name, the phone, the consent, the tags and the dates.

Headers are matched without case, accents, underscores or hyphens, so ``Teléfono``,
``telefono`` and ``TELEFONO`` are the same. A name may come in one column or split into
given names and surnames (``Nombres;Apellidos``, ``first_name,last_name``), which are
joined. When several phone columns exist the likeliest WhatsApp one is used: a
``whatsapp`` column, then a mobile one (``celular``), then a plain ``telefono``. Any other
column with a header is the shop's own data about the person (``producto``, ``graduacion``):
kept as an attribute named by its header as written, trimmed.
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
BIRTH_DATE = {"birth date", "birthdate", "fecha nacimiento", "fecha de nacimiento"}
LAST_VISIT = {"last visit", "ultima visita"}
KNOWN = FULL_NAME | GIVEN_NAME | SURNAME | CONSENT | TAGS | BIRTH_DATE | LAST_VISIT | set().union(*PHONE)
MAX_ATTRIBUTE = 64  # the longest attribute name (the column's header)


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
    birth_date: int | None = None
    last_visit: int | None = None
    attributes: tuple[int, ...] = ()

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
        if index == self.birth_date:
            return "fecha de nacimiento"
        if index == self.last_visit:
            return "última visita"
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
        for label, index in (("Fecha de nacimiento", self.birth_date), ("Última visita", self.last_visit)):
            found.append((label, shown(index) if index is not None else "ninguna (opcional)"))
        if self.attributes:
            found.append(("Datos propios", ", ".join(shown(i) for i in self.attributes)))
        return found

    def attribute_name(self, index: int) -> str:
        """The attribute a column fills: its header as written, trimmed."""
        return self.headers[index].strip()

    def ignored(self) -> list[str]:
        """The headers of the columns goteo does not read."""
        used = {*self.name, self.phone, self.consent, self.tags, self.birth_date, self.last_visit}
        used.update(self.attributes)
        return [h.strip() for i, h in enumerate(self.headers) if i not in used and h.strip()]


def map_headers(headers: list[str]) -> Columns:
    """Find the columns in the header row; ``ImportFileError`` if one is missing or repeated."""
    keys = [header_key(h) for h in headers]
    first_at: dict[str, int] = {}
    attributes: list[int] = []
    for index, key in enumerate(keys):
        if key not in KNOWN:
            header = headers[index].strip()
            if not header:
                continue
            if len(header) > MAX_ATTRIBUTE:
                raise ImportFileError(
                    f"El encabezado de la columna {column_letter(index)} tiene {len(header)} caracteres; "
                    f"el máximo es {MAX_ATTRIBUTE}. Acórtelo y vuelva a importar."
                )
            key = f"dato:{header.casefold()}"
            attributes.append(index)
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
            "Se esperan nombre (o nombres y apellidos), teléfono, consentimiento y, opcionales, "
            "etiquetas, fecha de nacimiento y última visita."
        )
    return Columns(
        tuple(headers),
        name,
        phone,
        consent,
        first(TAGS),
        first(BIRTH_DATE),
        first(LAST_VISIT),
        tuple(attributes),
    )
