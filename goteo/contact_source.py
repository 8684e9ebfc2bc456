"""Contacts kept in step with a Django host project's own model (the shop's patients).

The setting ``GOTEO_CONTACT_SOURCE`` names the host's model and which of its fields hold
what goteo needs::

    GOTEO_CONTACT_SOURCE = {
        "model": "patients.Patient",
        "name": "full_name",                 # or a list joined with spaces: ["first_name", "last_name"]
        "phone": "phone_number",
        "consent": "accepts_marketing",      # optional: without it goteo never changes consent
        "birth_date": "birth_date",          # optional
        "last_visit": "last_exam_date",      # optional
        "attributes": {"producto": "product"},  # optional: goteo's name -> the host's field
    }

A name may be a model field or any attribute of the instance (a property). The host is
the source of truth for what it maps: an empty date there empties it here, an empty
attribute is removed; attributes the host does not map (typed in the dashboard) stay.
An opt-out is goteo's and is never touched. ``goteo.contact_sync`` does the writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

SETTING = "GOTEO_CONTACT_SOURCE"
REQUIRED = ("model", "name", "phone")
OPTIONAL_FIELDS = ("consent", "birth_date", "last_visit")
KEYS = (*REQUIRED, *OPTIONAL_FIELDS, "attributes")
MAX_NAME = 200


class SourceError(ValueError):
    """The setting is wrong; ``problems`` says each thing wrong, in Spanish."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class HostRow:
    """What one host instance says about its person, in goteo's terms."""

    ref: str
    full_name: str
    phone_raw: str
    consent: bool | None  # None: the setting maps no consent
    birth_date: date | None
    last_visit: date | None
    attributes: dict[str, str | None] = field(default_factory=dict)  # None: remove


@dataclass(frozen=True)
class Source:
    """The host's model and where each of goteo's fields is on it."""

    model: type[models.Model]
    name: tuple[str, ...]
    phone: str
    consent: str | None = None
    birth_date: str | None = None
    last_visit: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """``patients.Patient``: the start of every ``source_ref`` from this model."""
        return self.model._meta.label

    def ref(self, pk: Any) -> str:
        return f"{self.label}:{pk}"

    def read(self, instance: models.Model) -> HostRow:
        """The person as the host has them; values goteo cannot use become empty."""
        name = " ".join(" ".join(text(getattr(instance, n, "")) for n in self.name).split())
        consent = None if self.consent is None else bool(getattr(instance, self.consent, False))
        return HostRow(
            ref=self.ref(instance.pk),
            full_name=name[:MAX_NAME],
            phone_raw=text(getattr(instance, self.phone, ""))[:64],
            consent=consent,
            birth_date=day(getattr(instance, self.birth_date, None)) if self.birth_date else None,
            last_visit=day(getattr(instance, self.last_visit, None)) if self.last_visit else None,
            attributes={key: text(getattr(instance, host, "")) or None for key, host in self.attributes},
        )


def text(value: Any) -> str:
    """A host value as goteo keeps it in text: dates as 2024-03-31, yes/no in Spanish."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, datetime | date):
        when = day(value)
        return when.isoformat() if when else ""
    return " ".join(str(value).split())


def day(value: Any) -> date | None:
    """A host date (or date and time, taken in the shop's zone); anything else is no date."""
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value if isinstance(value, date) else None


def problems_in(setting: Any) -> list[str]:
    """Everything wrong with a ``GOTEO_CONTACT_SOURCE`` value, each naming the key and field."""
    if not isinstance(setting, Mapping):
        return [f"{SETTING} debe ser un diccionario, como {{'model': 'patients.Patient', ...}}."]
    found = [
        f"{SETTING}: la clave «{key}» no se conoce; las claves son {', '.join(KEYS)}."
        for key in setting
        if key not in KEYS
    ]
    found += [f"{SETTING}: falta la clave «{key}»." for key in REQUIRED if key not in setting]
    label = setting.get("model")
    try:
        model = apps.get_model(label) if isinstance(label, str) else None
    except (LookupError, ValueError):
        model = None
    if "model" in setting and model is None:
        found.append(
            f"{SETTING}: «model» es {label!r}; no hay un modelo instalado con ese nombre "
            "(se escribe app.Modelo, p. ej. 'patients.Patient')."
        )
    names: list[tuple[str, Any]] = []
    if isinstance(setting.get("name"), list | tuple):
        names += [("name", n) for n in setting["name"]]
    elif "name" in setting:
        names.append(("name", setting["name"]))
    names += [(key, setting[key]) for key in ("phone", *OPTIONAL_FIELDS) if key in setting]
    attributes = setting.get("attributes", {})
    if not isinstance(attributes, Mapping):
        found.append(f"{SETTING}: «attributes» debe ser un diccionario nombre -> campo.")
        attributes = {}
    names += [(f"attributes.{key}", host) for key, host in attributes.items()]
    for key, host in names:
        if not isinstance(host, str) or not host:
            found.append(f"{SETTING}: «{key}» debe ser el nombre de un campo, no {host!r}.")
        elif model is not None and not has_field(model, host):
            found.append(f"{SETTING}: «{key}» nombra el campo «{host}», que {model._meta.label} no tiene.")
    found += [
        f"{SETTING}: el nombre del dato «{key}» debe ser un texto de 1 a 64 caracteres."
        for key in attributes
        if not isinstance(key, str) or not 0 < len(key.strip()) <= 64
    ]
    return found


def has_field(model: type[models.Model], name: str) -> bool:
    """Whether ``name`` is a field of ``model`` or an attribute of its instances (a property)."""
    try:
        model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist
        return hasattr(model, name) and not name.startswith("_")
    return True


def configured() -> Any:
    """The setting as written, or None when the host project does not set it."""
    return getattr(settings, SETTING, None)


def load_source(setting: Any = None) -> Source | None:
    """The configured source, None if there is none; ``SourceError`` if the setting is wrong."""
    setting = configured() if setting is None else setting
    if not setting:
        return None
    found = problems_in(setting)
    if found:
        raise SourceError(found)
    name = setting["name"]
    return Source(
        model=apps.get_model(setting["model"]),
        name=tuple(name) if isinstance(name, list | tuple) else (name,),
        phone=setting["phone"],
        consent=setting.get("consent"),
        birth_date=setting.get("birth_date"),
        last_visit=setting.get("last_visit"),
        attributes=tuple((key.strip(), host) for key, host in setting.get("attributes", {}).items()),
    )
