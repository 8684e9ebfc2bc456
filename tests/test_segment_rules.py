"""Segment rules: each kind at its edges, and input that must stay plain data."""

import re
from datetime import date

import pytest

from goteo.models import Contact, Segment, Tag
from goteo.rules import RuleError, months_before, rules_query, validate_rules

pytestmark = pytest.mark.django_db


def person(name: str, **fields) -> Contact:
    tags = fields.pop("tags", [])
    contact = Contact.objects.create(full_name=name, phone="", consent=True, **fields)
    for tag in tags:
        contact.tags.add(Tag.objects.get_or_create(name=tag)[0])
    return contact


def names(rules: list, today: date) -> set[str]:
    wanted = rules_query(validate_rules(rules), today)
    return set(Contact.objects.filter(wanted).values_list("full_name", flat=True))


def within(days: int) -> list[dict]:
    return [{"field": "birth_date", "op": "birthday_within", "value": days}]


def test_tags_each_rule_its_own_join():
    person("ambas", tags=["vip", "lentes"])
    person("solo vip", tags=["vip"])
    person("ninguna")
    both = [{"field": "tag", "op": "has", "value": "vip"}, {"field": "tag", "op": "has", "value": "lentes"}]
    assert names(both, date(2026, 1, 1)) == {"ambas"}
    not_lenses = [{"field": "tag", "op": "has_not", "value": "lentes"}]
    assert names(not_lenses, date(2026, 1, 1)) == {"solo vip", "ninguna"}


def test_an_attribute_equals_ignoring_case_and_spaces_and_never_another_key():
    person("usa", attributes={"producto": " Lentes de Contacto "})
    person("gafas", attributes={"producto": "gafas"})
    person("otra clave", attributes={"marca": "lentes de contacto"})
    person("sin atributos")
    rule = [{"field": "attribute", "name": "producto", "op": "equals", "value": "lentes de contacto"}]
    assert names(rule, date(2026, 1, 1)) == {"usa"}
    wildcard = [{"field": "attribute", "name": "producto", "op": "equals", "value": "%"}]
    assert names(wildcard, date(2026, 1, 1)) == set()  # a LIKE wildcard is a plain character


@pytest.mark.parametrize(
    ("visit", "older", "newer"),
    [
        (date(2025, 3, 31), True, False),  # exactly 12 months before: «at least»
        (date(2025, 4, 1), False, True),
        (None, False, False),  # no date: in neither
    ],
)
def test_twelve_calendar_months(visit, older, newer):
    person("p", last_visit=visit)
    today = date(2026, 3, 31)
    rule = {"field": "last_visit", "value": 12, "unit": "months"}
    assert names([{**rule, "op": "older_than"}], today) == ({"p"} if older else set())
    assert names([{**rule, "op": "newer_than"}], today) == ({"p"} if newer else set())


def test_a_month_back_from_the_31st_is_the_last_day_of_the_shorter_month():
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_days_count_back_from_today():
    person("365", last_visit=date(2025, 1, 1))
    person("364", last_visit=date(2025, 1, 2))
    today = date(2026, 1, 1)
    older = [{"field": "last_visit", "op": "older_than", "value": 365, "unit": "days"}]
    assert names(older, today) == {"365"}


def test_birthday_within_crosses_the_year_end():
    person("31 dic", birth_date=date(1990, 12, 31))
    person("1 ene", birth_date=date(1985, 1, 1))
    person("2 ene", birth_date=date(1985, 1, 2))
    person("30 dic", birth_date=date(1985, 12, 30))
    assert names(within(2), date(2025, 12, 31)) == {"31 dic", "1 ene"}
    assert names(within(1), date(2025, 12, 31)) == {"31 dic"}
    assert names(within(366), date(2025, 12, 31)) == {"31 dic", "1 ene", "2 ene", "30 dic"}


def test_the_29th_of_february_counts_on_the_28th_in_other_years():
    person("bisiesto", birth_date=date(2000, 2, 29))
    assert names(within(1), date(2026, 2, 28)) == {"bisiesto"}
    assert names(within(1), date(2026, 3, 1)) == set()
    assert names(within(1), date(2028, 2, 28)) == set()  # a leap year: on the 29th
    assert names(within(1), date(2028, 2, 29)) == {"bisiesto"}
    assert names(within(3), date(2026, 2, 27)) == {"bisiesto"}


def test_before_and_after_a_day_are_strict():
    person("ese día", last_visit=date(2025, 1, 1))
    person("antes", last_visit=date(2024, 12, 31))
    before = [{"field": "last_visit", "op": "before", "value": "01/01/2025"}]
    after = [{"field": "last_visit", "op": "after", "value": "2024-12-31"}]
    assert names(before, date(2026, 1, 1)) == {"antes"}
    assert names(after, date(2026, 1, 1)) == {"ese día"}


def test_the_optical_shop_example_and_its_canonical_form():
    person("Ana", last_visit=date(2024, 11, 2), attributes={"producto": "lentes de contacto"})
    person("Beto", last_visit=date(2025, 11, 2), attributes={"producto": "lentes de contacto"})
    person("Caro", last_visit=date(2024, 11, 2), attributes={"producto": "gafas"})
    typed = [
        {"field": "last_visit", "op": "older_than", "value": "12", "unit": "months"},
        {"field": "attribute", "name": " producto ", "op": "equals", "value": "lentes de contacto"},
    ]
    segment = Segment.objects.create(name="un año sin examen", rules=typed)
    assert segment.rules[0] == {"field": "last_visit", "op": "older_than", "value": 12, "unit": "months"}
    assert segment.rules[1]["name"] == "producto"
    assert {c.full_name for c in segment.contacts(date(2026, 1, 10))} == {"Ana"}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("[]", "Las reglas deben ser una lista."),
        ({"field": "tag"}, "Las reglas deben ser una lista."),
        ([["tag", "has", "vip"]], "Regla 1: cada regla"),
        ([{"field": "tag", "op": "has", "value": "vip"}, {"field": "edad"}], "Regla 2: campo desconocido"),
        ([{"field": "tag", "op": "like", "value": "vip"}], "Regla 1 (etiqueta): condición desconocida"),
        ([{"field": "tag", "op": "has", "value": "vip", "sql": "1=1"}], "Regla 1: dato desconocido «sql»"),
        ([{"field": "tag", "op": "has", "value": "vip", "unit": "days"}], "sobra el dato «unit»"),
        ([{"field": "tag", "op": "has", "value": {"$ne": 1}}], "escriba el nombre de la etiqueta"),
        ([{"field": "tag", "op": "has", "value": ["vip"]}], "escriba el nombre de la etiqueta"),
        ([{"field": "tag", "op": "has", "value": "x" * 65}], "demasiado largo"),
        ([{"field": "tag", "op": "has", "value": "vip\x00"}], "caracteres no permitidos"),
        ([{"field": "birth_date", "op": "birthday_within", "value": 367}], "entre 1 y 366"),
        ([{"field": "birth_date", "op": "birthday_within", "value": 0}], "entre 1 y 366"),
        ([{"field": "birth_date", "op": "birthday_within", "value": 7.5}], "debe ser entero"),
        ([{"field": "birth_date", "op": "birthday_within", "value": True}], "debe ser entero"),
        ([{"field": "birth_date", "op": "birthday_within", "value": "9" * 40}], "debe ser entero"),
        (
            [{"field": "birth_date", "op": "birthday_within", "value": "²"}],
            "debe ser entero",
        ),  # isdigit, not int
        ([{"field": "last_visit", "op": "after", "value": "٢٠٢٥-٠١-٠١"}], "día válido"),
        ([{"field": "last_visit", "op": "older_than", "value": 10**12, "unit": "days"}], "entre 1 y 36600"),
        ([{"field": "last_visit", "op": "older_than", "value": 3, "unit": "years"}], "días o meses"),
        ([{"field": "last_visit", "op": "birthday_within", "value": 3}], "condición desconocida"),
        ([{"field": "last_visit", "op": "before", "value": "2025-02-30"}], "día válido"),
        ([{"field": "last_visit", "op": "before", "value": "now()"}], "día válido"),
        ([{"field": "last_visit", "op": "before", "value": "0001-01-01"}], "entre 1900 y 2100"),
        ([{"field": "tag", "op": "has", "value": "v"}] * 21, "como máximo 20"),
    ],
)
def test_it_refuses_what_it_cannot_read_naming_the_rule(rules, message):
    with pytest.raises(RuleError, match=re.escape(message)):
        validate_rules(rules)


@pytest.mark.parametrize(
    "name",
    [
        "producto__contains",  # a Django lookup
        "producto__0",
        "0",  # a JSON array index
        "$.producto",  # JSON path characters
        'producto"',
        "producto[0]",
        "producto') OR 1=1 --",
        "_producto",
        "p" * 41,
    ],
)
def test_attribute_names_outside_the_safe_charset_are_refused(name):
    rule = [{"field": "attribute", "name": name, "op": "equals", "value": "x"}]
    with pytest.raises(RuleError, match="Regla 1 \\(atributo\\)"):
        validate_rules(rule)


@pytest.mark.parametrize(
    "value",
    ["' OR '1'='1", "vip'; DROP TABLE goteo_contact; --", '{"$gt": ""}', "%", "_", "\\", "vip__in"],
)
def test_sql_looking_values_are_plain_values(value):
    person("normal", tags=["vip"], attributes={"producto": "gafas"})
    person("literal", tags=[value], attributes={"producto": value})
    tag = [{"field": "tag", "op": "has", "value": value}]
    attribute = [{"field": "attribute", "name": "producto", "op": "equals", "value": value}]
    assert names(tag, date(2026, 1, 1)) == {"literal"}
    assert names(attribute, date(2026, 1, 1)) == {"literal"}
    assert Contact.objects.count() == 2  # nothing dropped


def test_a_segment_cannot_be_saved_with_rules_it_cannot_read():
    with pytest.raises(RuleError, match="Regla 1"):
        Segment.objects.create(name="mal", rules=[{"field": "tag", "op": "has"}])
    assert not Segment.objects.exists()


@pytest.mark.parametrize("name", ["contains", "has_key", "exact", "isnull", "in", "key"])
def test_an_attribute_named_like_a_lookup_is_only_a_key(name):
    person("esa clave", attributes={name: "x"})
    person("otra clave", attributes={"producto": "x"})
    rule = [{"field": "attribute", "name": name, "op": "equals", "value": "x"}]

    assert names(rule, date(2026, 1, 1)) == {"esa clave"}
