"""A segment's editor: its name and one row per rule, read from a plain form (no JSON to type).

Each row is a kind (what the rule asks, e.g. «Última visita hace al menos»), an attribute
name, a value and a unit; only the inputs the kind uses are read. The page works without
scripts: «Agregar regla», «Quitar» and «Contar» post the form and it comes back as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from goteo.rules import CONTROL, MAX_RULES, RuleError, validate_rule

# The kinds a row offers: (field, op) and the words the shop reads.
KINDS: dict[str, tuple[str, str, Any]] = {
    "tag.has": ("tag", "has", _("Tiene la etiqueta")),
    "tag.has_not": ("tag", "has_not", _("No tiene la etiqueta")),
    "attribute.equals": ("attribute", "equals", _("Un dato propio es igual a")),
    "last_visit.older_than": ("last_visit", "older_than", _("Última visita hace al menos")),
    "last_visit.newer_than": ("last_visit", "newer_than", _("Última visita hace menos de")),
    "last_visit.before": ("last_visit", "before", _("Última visita antes del día")),
    "last_visit.after": ("last_visit", "after", _("Última visita después del día")),
    "birth_date.birthday_within": ("birth_date", "birthday_within", _("Cumpleaños en los próximos días")),
    "birth_date.older_than": ("birth_date", "older_than", _("Nació hace al menos (edad)")),
    "birth_date.newer_than": ("birth_date", "newer_than", _("Nació hace menos de (edad)")),
    "birth_date.before": ("birth_date", "before", _("Nació antes del día")),
    "birth_date.after": ("birth_date", "after", _("Nació después del día")),
}
UNIT_CHOICES = (("days", _("días")), ("months", _("meses")))
NAME_LENGTH = 64


@dataclass
class RuleRow:
    """One row of the editor as typed, and what is wrong with it ("" when nothing)."""

    kind: str = "tag.has"
    name: str = ""
    value: str = ""
    unit: str = "months"
    error: str = ""

    @classmethod
    def of(cls, rule: dict[str, Any]) -> RuleRow:
        """A saved rule as a row to edit."""
        value = rule.get("value", "")
        if rule["op"] in ("before", "after"):
            year, month, day = str(value).split("-")
            value = f"{day}/{month}/{year}"
        return cls(
            kind=f"{rule['field']}.{rule['op']}",
            name=rule.get("name", ""),
            value=str(value),
            unit=rule.get("unit", "months"),
        )

    def rule(self) -> dict[str, Any]:
        """The rule this row asks for, not yet checked."""
        field_name, op, _label = KINDS.get(self.kind, ("", "", ""))
        rule: dict[str, Any] = {"field": field_name, "op": op, "value": self.value}
        if field_name == "attribute":
            rule["name"] = self.name
        if op in ("older_than", "newer_than"):
            rule["unit"] = self.unit
        return rule

    @property
    def blank(self) -> bool:
        """A row just added, nothing typed in it yet."""
        return not self.value.strip() and not self.name.strip()


@dataclass
class SegmentForm:
    """The editor's name and rows; ``rules`` holds the checked rules once ``is_valid``."""

    name: str = ""
    rows: list[RuleRow] = field(default_factory=list)
    name_error: str = ""
    rules: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, rules: list[dict[str, Any]]) -> SegmentForm:
        return cls(name=name, rows=[RuleRow.of(rule) for rule in rules])

    @classmethod
    def posted(cls, data: QueryDict) -> SegmentForm:
        """The form as posted: rows rule-0… in order, less the one «Quitar» named."""
        removed = data.get("remove", "")
        rows = []
        for index in range(MAX_RULES):
            kind = data.get(f"rule-{index}-kind")
            if kind is None or str(index) == removed:
                continue
            rows.append(
                RuleRow(
                    kind=kind if kind in KINDS else "",
                    name=data.get(f"rule-{index}-name", "")[:100],
                    value=data.get(f"rule-{index}-value", "")[:300],
                    unit=data.get(f"rule-{index}-unit", "months"),
                )
            )
        return cls(name=data.get("name", "").strip()[:200], rows=rows)

    def add_row(self) -> bool:
        """One more empty row, unless the rules are already as many as allowed."""
        if len(self.rows) >= MAX_RULES:
            return False
        self.rows.append(RuleRow())
        return True

    def is_valid(self) -> bool:
        """Check every row (each keeps its own error) and the name; fill ``rules``."""
        self.rules = []
        for number, row in enumerate(self.rows, start=1):
            row.error = ""
            if not row.kind:
                row.error = str(_("Regla %(n)s: elija qué pide la regla.") % {"n": number})
                continue
            try:
                self.rules.append(validate_rule(row.rule(), number))
            except RuleError as exc:
                row.error = str(exc)
        self.name_error = ""
        if not self.name:
            self.name_error = str(_("Escriba un nombre para el segmento."))
        elif len(self.name) > NAME_LENGTH:
            self.name_error = str(
                _("El nombre es demasiado largo (máximo %(n)s caracteres).") % {"n": NAME_LENGTH}
            )
        elif CONTROL.search(self.name):
            self.name_error = str(_("El nombre tiene caracteres no permitidos."))
        return not self.name_error and all(not row.error for row in self.rows)

    @property
    def countable(self) -> bool:
        """Whether ``rules`` can be counted: every row is right or not filled in yet."""
        return all(not row.error or row.blank for row in self.rows)
