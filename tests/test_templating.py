"""Template safety and per-message variation."""

from datetime import date

import pytest

from goteo.templating import TemplateError, Variables, render, validate_template

SEED = "🎄 ¡Hola {name}!\n💰 {benefit}\n🎁 Código: {code}\n📅 Válido hasta el {valid_until}\n- CompuEasys"
VARS = Variables("Daniel Osorio", "NAVIDAD2026", "30% de descuento en Monturas", date(2026, 2, 2))


def test_it_fills_every_placeholder():
    text = render(SEED, VARS, seed=1)
    assert text == (
        "🎄 ¡Hola Daniel!\n💰 30% de descuento en Monturas\n🎁 Código: NAVIDAD2026\n"
        "📅 Válido hasta el 02/02/2026\n- CompuEasys"
    )


def test_it_fills_the_full_name():
    assert render("{full_name}", VARS, seed=1) == "Daniel Osorio"


@pytest.mark.parametrize(
    "bad", ["{name.__class__}", "{0}", "{name[0]}", "{nombre}", "{}", "{name!r}", "{name:>10}", "Hola {name"]
)
def test_it_rejects_anything_but_known_placeholders(bad):
    with pytest.raises(TemplateError) as error:
        validate_template(bad)
    if bad != "Hola {name":
        assert "{name}, {full_name}, {code}, {benefit}, {valid_until}" in str(error.value)


def test_it_never_evaluates_attribute_access():
    with pytest.raises(TemplateError):
        validate_template("{name.__class__.__mro__}")


def test_it_allows_literal_braces():
    assert render("{{precio}} {name}", VARS, seed=3) == "{precio} Daniel"


def test_it_rejects_an_empty_template():
    with pytest.raises(TemplateError):
        validate_template("   ")


def test_it_closes_with_an_emoji_from_the_set():
    text = render(SEED, VARS, seed=7, emojis=["✨", "😊"])
    assert text.endswith("- CompuEasys ✨") or text.endswith("- CompuEasys 😊")


def test_it_chooses_the_same_variation_for_the_same_message():
    template = "[Hola|Buenas|Qué tal] {name}"
    assert render(template, VARS, seed=42, emojis=["✨", "😊", "🎉"]) == render(
        template, VARS, seed=42, emojis=["✨", "😊", "🎉"]
    )


def test_it_varies_across_messages():
    template = "[Hola|Buenas|Qué tal] {name}"
    texts = {render(template, VARS, seed=s, emojis=["✨", "😊", "🎉"]) for s in range(50)}
    greetings = {t.split()[0] for t in texts}
    assert greetings == {"Hola", "Buenas", "Qué"}
    assert len(texts) > 3


def test_it_leaves_brackets_without_alternatives_alone():
    assert render("[nota] {name}", VARS, seed=1) == "[nota] Daniel"
