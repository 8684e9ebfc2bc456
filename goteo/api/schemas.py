"""What the API reads and writes, with Spanish messages for each bad field (goteo.api.errors)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from goteo.models import Campaign, Message

MAX_NAME, MAX_PHONE, MAX_TAG, MAX_TAGS = 200, 64, 64, 20
MAX_ATTRIBUTES, MAX_ATTRIBUTE_KEY, MAX_ATTRIBUTE_VALUE = 30, 64, 200
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(value: object) -> object:
    """Only ``2026-03-31``: pydantic would also take a number of seconds, which nobody means."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value.strip()):
        raise PydanticCustomError("goteo_date", "fecha no válida: escríbala AAAA-MM-DD, p. ej. 2026-03-31")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PydanticCustomError("goteo_date", "esa fecha no existe en el calendario") from None


Day = Annotated[date | None, BeforeValidator(iso_day)]


class ContactIn(Schema):
    """A contact to create or update, found by its phone. Fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(
        ..., max_length=MAX_PHONE, description="Teléfono; sin indicativo se toma el del país de la tienda."
    )
    name: str | None = Field(None, max_length=MAX_NAME, description="Nombre completo; obligatorio al crear.")
    consent: StrictBool | None = Field(
        None, description="true: acepta promociones (no quita una baja); false: ya no las acepta."
    )
    birth_date: Day = Field(None, description="Fecha de nacimiento, AAAA-MM-DD.")
    last_visit: Day = Field(
        None, description="Fecha de la última visita (p. ej. el último examen), AAAA-MM-DD."
    )
    attributes: dict[str, str] | None = Field(
        None,
        description="Datos propios de la tienda, texto a texto; se suman a los que ya tiene. "
        'Un valor "" borra ese dato.',
    )
    tags: list[str] | None = Field(None, description="Etiquetas que se añaden (las que ya tiene se quedan).")

    @field_validator("name")
    @classmethod
    def name_not_blank(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value:
            raise PydanticCustomError("goteo_name", "está vacío")
        return value

    @field_validator("attributes")
    @classmethod
    def flat_attributes(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        if len(value) > MAX_ATTRIBUTES:
            raise PydanticCustomError(
                "goteo_attributes", f"tiene {len(value)} datos; el máximo es {MAX_ATTRIBUTES}"
            )
        for key, text in value.items():
            if not key.strip():
                raise PydanticCustomError("goteo_attributes", "hay un dato sin nombre")
            if len(key) > MAX_ATTRIBUTE_KEY:
                raise PydanticCustomError(
                    "goteo_attributes", f"el nombre «{key[:20]}…» pasa de {MAX_ATTRIBUTE_KEY} caracteres"
                )
            if len(text) > MAX_ATTRIBUTE_VALUE:
                raise PydanticCustomError(
                    "goteo_attributes", f"el valor de «{key}» pasa de {MAX_ATTRIBUTE_VALUE} caracteres"
                )
        return {key.strip(): text.strip() for key, text in value.items()}

    @field_validator("tags")
    @classmethod
    def short_tags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        tags = list(dict.fromkeys(t.strip() for t in value if t.strip()))
        if len(tags) > MAX_TAGS:
            raise PydanticCustomError("goteo_tags", f"son {len(tags)} etiquetas; el máximo es {MAX_TAGS}")
        long_tag = next((t for t in tags if len(t) > MAX_TAG), None)
        if long_tag is not None:
            raise PydanticCustomError(
                "goteo_tags", f"«{long_tag[:20]}…» tiene {len(long_tag)} caracteres; el máximo es {MAX_TAG}"
            )
        return tags


class ContactOut(Schema):
    id: int
    phone: str
    name: str
    landline: bool
    consent: bool
    consent_at: datetime | None
    consent_source: str
    opted_out: bool
    opted_out_at: datetime | None
    birth_date: date | None
    last_visit: date | None
    attributes: dict[str, str]
    tags: list[str]


class ContactSaved(ContactOut):
    created: bool = Field(description="true si se creó; false si ya existía y se actualizó.")
    warnings: list[str] = Field(description="Lo que conviene saber: p. ej. que sigue dada de baja.")


class OptedOut(Schema):
    phone: str
    opted_out: bool
    opted_out_at: datetime | None
    skipped: int = Field(description="Mensajes pendientes que se omitieron ahora.")


class CampaignItem(Schema):
    id: int
    name: str
    status: str
    status_label: str
    simulation: bool
    created_at: datetime
    start_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    total: int
    sent: int
    pending: int
    failed: int
    skipped: int

    @staticmethod
    def resolve_status_label(obj: Campaign) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_total(obj: Campaign) -> int:
        return obj.total_count

    @staticmethod
    def resolve_sent(obj: Campaign) -> int:
        return obj.sent_count

    @staticmethod
    def resolve_pending(obj: Campaign) -> int:
        return obj.pending_count

    @staticmethod
    def resolve_failed(obj: Campaign) -> int:
        return obj.failed_count

    @staticmethod
    def resolve_skipped(obj: Campaign) -> int:
        return obj.skipped_count


class MessageItem(Schema):
    id: int
    name: str
    phone: str
    status: str
    status_label: str
    skip_reason: str
    skip_reason_label: str
    code: str
    occurrence: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    replied_at: datetime | None

    @staticmethod
    def resolve_name(obj: Message) -> str:
        return obj.contact_name

    @staticmethod
    def resolve_phone(obj: Message) -> str:
        return obj.phone or ""

    @staticmethod
    def resolve_status_label(obj: Message) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_skip_reason_label(obj: Message) -> str:
        return str(obj.get_skip_reason_display()) if obj.skip_reason else ""


class Detail(Schema):
    detail: str


class BadInput(Detail):
    errors: dict[str, list[str]]
