"""Segment rules: their shape, their check, and the query they make.

Rules are data typed by the shop, so they are only ever read into Q objects: each value
goes to the database as a parameter, attribute names are limited to a safe charset, and
anything goteo does not know is refused with a Spanish message naming the rule. A
segment's rules are a JSON list; a contact is in the segment when every rule holds:

- ``{"field": "tag", "op": "has" | "has_not", "value": "vip"}``
- ``{"field": "attribute", "name": "producto", "op": "equals", "value": "lentes de contacto"}``
  (the value compared ignoring case and surrounding spaces)
- ``{"field": "last_visit" | "birth_date", "op": "older_than" | "newer_than", "value": 12,
  "unit": "days" | "months"}``: the date is at least N before today, or less than N
- ``{"field": "birth_date", "op": "birthday_within", "value": 7}``: the birthday falls in the
  N days starting today (1 = today only); 29 February counts on 28 February in other years
- ``{"field": "last_visit" | "birth_date", "op": "before" | "after", "value": "2025-01-01"}``
  (strictly before or after that day)

Relative dates count from the ``today`` the caller passes: the sending number's local day.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Trim
from django.db.models.lookups import IExact

from goteo.month_day import birthdays_on

MAX_RULES = 20
MAX_TEXT = 200
MAX_DAYS = 36600  # a hundred years
MAX_MONTHS = 1200
MAX_WITHIN = 366
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)
# An attribute's name: letters, digits, spaces, hyphens and single underscores, as the CSV
# headers they come from; never "__" (a Django lookup) nor only digits (a JSON array index).
ATTRIBUTE_NAME = re.compile(r"^[^\W_](?:[\w -]{0,38}[^\W_])?$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# What a rule may ask of each field, and the field's name for the shop.
FIELD_NAMES = {
    "tag": "etiqueta",
    "attribute": "atributo",
    "last_visit": "última visita",
    "birth_date": "fecha de nacimiento",
}
DATE_OPS = ("older_than", "newer_than", "before", "after")
OPS: dict[str, tuple[str, ...]] = {
    "tag": ("has", "has_not"),
    "attribute": ("equals",),
    "last_visit": DATE_OPS,
    "birth_date": (*DATE_OPS, "birthday_within"),
}
UNITS = ("days", "months")
KEYS = {"field", "op", "value", "name", "unit"}


class RuleError(ValueError):
    """A rule goteo cannot read; the message names which rule and what is wrong, in Spanish.

    ``number`` is the rule's place in the list (1 for the first), 0 for the list itself.
    """

    def __init__(self, message: str, number: int = 0) -> None:
        super().__init__(message)
        self.number = number


Fail = Callable[[str], "RuleError"]


def validate_rules(rules: Any) -> list[dict[str, Any]]:
    """The rules in their canonical form, or RuleError."""
    if not isinstance(rules, list):
        raise RuleError("Las reglas deben ser una lista.")
    if len(rules) > MAX_RULES:
        raise RuleError(f"Demasiadas reglas: como máximo {MAX_RULES}.")
    return [validate_rule(rule, number) for number, rule in enumerate(rules, start=1)]


def validate_rule(rule: Any, number: int) -> dict[str, Any]:
    """One rule in its canonical form, or RuleError saying «Regla N (campo): qué falla»."""
    if not isinstance(rule, dict):
        raise RuleError(f"Regla {number}: cada regla debe tener campo, condición y valor.", number)
    unknown = sorted(str(key)[:30] for key in rule if key not in KEYS)
    if unknown:
        raise RuleError(f"Regla {number}: dato desconocido «{unknown[0]}».", number)
    field = rule.get("field")
    if not isinstance(field, str) or field not in OPS:
        known = ", ".join(FIELD_NAMES.values())
        raise RuleError(f"Regla {number}: campo desconocido; puede ser {known}.", number)

    def fail(problem: str) -> RuleError:
        return RuleError(f"Regla {number} ({FIELD_NAMES[field]}): {problem}", number)

    op = rule.get("op")
    if not isinstance(op, str) or op not in OPS[field]:
        raise fail("condición desconocida para este campo.")
    allowed = {"field", "op", "value"} | ({"name"} if field == "attribute" else set())
    if op in ("older_than", "newer_than"):
        allowed.add("unit")
    extra = sorted(set(rule) - allowed)
    if extra:
        raise fail(f"sobra el dato «{extra[0]}».")
    value = rule.get("value")
    canonical: dict[str, Any] = {"field": field, "op": op}
    if field == "tag":
        canonical["value"] = text(value, 64, fail, "el nombre de la etiqueta")
    elif field == "attribute":
        name = text(rule.get("name"), 40, fail, "el nombre del atributo")
        if not ATTRIBUTE_NAME.match(name) or "__" in name or name.isdigit():
            raise fail(
                "el nombre del atributo solo puede tener letras, números, espacios, guiones "
                "y guiones bajos sueltos, y no solo números."
            )
        canonical["name"] = name
        canonical["value"] = text(value, MAX_TEXT, fail, "el valor del atributo")
    elif op in ("older_than", "newer_than"):
        unit = rule.get("unit", "days")
        if unit not in UNITS:
            raise fail("la unidad debe ser días o meses.")
        most = MAX_DAYS if unit == "days" else MAX_MONTHS
        canonical["value"] = whole(value, 1, most, fail)
        canonical["unit"] = unit
    elif op == "birthday_within":
        canonical["value"] = whole(value, 1, MAX_WITHIN, fail)
    else:
        canonical["value"] = day(value, fail).isoformat()
    return canonical


def text(value: Any, longest: int, fail: Fail, what: str) -> str:
    """A plain string, stripped, 1 to ``longest`` characters, without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise fail(f"escriba {what}.")
    cleaned: str = value.strip()
    if len(cleaned) > longest:
        raise fail(f"{what} es demasiado largo (máximo {longest} caracteres).")
    if CONTROL.search(cleaned):
        raise fail(f"{what} tiene caracteres no permitidos.")
    return cleaned


def whole(value: Any, least: int, most: int, fail: Fail) -> int:
    """A whole number in [least, most]; digits typed in a form count, fractions do not."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,6}", value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(f"el número debe ser entero, entre {least} y {most}.")
    number: int = value
    if not least <= number <= most:
        raise fail(f"el número debe estar entre {least} y {most}.")
    return number


def day(value: Any, fail: Fail) -> date:
    """A day written AAAA-MM-DD (or DD/MM/AAAA, as the shop types it)."""
    if isinstance(value, str):
        typed = value.strip()
        for pattern, order in (
            (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", (0, 1, 2)),
            (r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", (2, 1, 0)),
        ):
            found = re.fullmatch(pattern, typed)
            if found:
                parts = [int(part) for part in found.groups()]
                try:
                    result = date(parts[order[0]], parts[order[1]], parts[order[2]])
                except ValueError:
                    break
                if FIRST_DAY <= result <= LAST_DAY:
                    return result
                break
    raise fail("la fecha debe ser un día válido como 31/12/2025, entre 1900 y 2100.")


def months_before(today: date, months: int) -> date:
    """The same day ``months`` calendar months earlier; the 31st falls on the month's last day."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def ago(rule: dict[str, Any], today: date) -> date:
    if rule["unit"] == "months":
        return months_before(today, rule["value"])
    return today - timedelta(days=rule["value"])


def birthday_within(days: int, today: date) -> Q:
    """Birthdays on one of ``days`` days starting today (their month and day, in SQL).

    In a year without 29 February, people born that day have their birthday on the 28th.
    """
    coming = [today + timedelta(days=offset) for offset in range(min(days, MAX_WITHIN))]
    return birthdays_on(coming)


def rule_query(rule: dict[str, Any], today: date) -> Q:
    """One validated rule as a Q over Contact."""
    from goteo.models.contacts import Contact

    field, op, value = rule["field"], rule["op"], rule["value"]
    if field == "tag":
        # A subquery per rule: two tag rules must not share one join (one tag named both).
        tagged = Q(pk__in=Contact.tags.through.objects.filter(tag__name=value).values("contact_id"))
        return tagged if op == "has" else ~tagged
    if field == "attribute":
        # The name goes through KeyTextTransform as a parameter: never parsed as a lookup.
        return Q(IExact(Trim(KeyTextTransform(rule["name"], "attributes")), value))
    if op == "older_than":
        return Q(**{f"{field}__lte": ago(rule, today)})
    if op == "newer_than":
        return Q(**{f"{field}__gt": ago(rule, today)})
    if op == "birthday_within":
        return birthday_within(value, today)
    when = date.fromisoformat(value)
    return Q(**{f"{field}__lt" if op == "before" else f"{field}__gt": when})


def rules_query(rules: list[dict[str, Any]], today: date) -> Q:
    """One Q over Contact that every rule must hold for (already validated rules)."""
    wanted = Q()
    for rule in rules:
        wanted &= rule_query(rule, today)
    return wanted


def describe_rule(rule: dict[str, Any]) -> str:
    """A validated rule in the shop's words: «última visita hace más de 12 meses»."""
    field, op, value = rule["field"], rule["op"], rule["value"]
    if field == "tag":
        return f"{'tiene' if op == 'has' else 'no tiene'} la etiqueta «{value}»"
    if field == "attribute":
        return f"«{rule['name']}» es «{value}»"
    name = FIELD_NAMES[field]
    if op in ("older_than", "newer_than"):
        unit = (
            ("día" if value == 1 else "días")
            if rule["unit"] == "days"
            else ("mes" if value == 1 else "meses")
        )
        return f"{name} hace {'al menos' if op == 'older_than' else 'menos de'} {value} {unit}"
    if op == "birthday_within":
        return "cumpleaños hoy" if value == 1 else f"cumpleaños en los próximos {value} días"
    when = date.fromisoformat(value).strftime("%d/%m/%Y")
    return f"{name} {'antes' if op == 'before' else 'después'} del {when}"
