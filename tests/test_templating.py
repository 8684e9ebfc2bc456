"""Template safety and per-message variation."""

from datetime import date

import pytest

from goteo.templating import (
    TemplateError,
    Variables,
    parse_provider_template,
    provider_template_spec,
    render,
    validate_provider_template,
    validate_template,
)

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
    "bad",
    ["{name.__class__}", "{0}", "{name[0]}", "{nombres}", "{}", "{name!r}", "{nombre:>10}", "Hola {name"],
)
def test_it_rejects_anything_but_known_placeholders(bad):
    with pytest.raises(TemplateError) as error:
        validate_template(bad)
    if bad != "Hola {name":
        assert "{nombre}, {nombre_completo}, {codigo}, {beneficio}, {valido_hasta}" in str(error.value)


def test_it_fills_the_spanish_placeholders_and_their_english_aliases_alike():
    spanish = "¡Hola {nombre}! {nombre_completo}: {beneficio} con {codigo} hasta el {valido_hasta}"
    english = "¡Hola {name}! {full_name}: {benefit} con {code} hasta el {valid_until}"
    assert validate_template(spanish) == ["nombre", "nombre_completo", "beneficio", "codigo", "valido_hasta"]
    assert validate_template(english) == validate_template(spanish)
    assert (
        render(spanish, VARS, seed=1)
        == render(english, VARS, seed=1)
        == ("¡Hola Daniel! Daniel Osorio: 30% de descuento en Monturas con NAVIDAD2026 hasta el 02/02/2026")
    )


def test_it_accepts_provider_template_parameters_in_spanish():
    assert parse_provider_template("promo:es:nombre,codigo")["params"] == ["nombre", "codigo"]


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


# --- approved provider templates (Cloud API, Twilio) -------------------------------------
def test_it_reads_the_short_form_of_a_provider_template():
    assert parse_provider_template("promo_monturas:es_CO:name, code") == {
        "name": "promo_monturas",
        "language": "es_CO",
        "params": ["name", "code"],
    }
    assert parse_provider_template("HX1234abcd") == {"name": "HX1234abcd", "language": "es", "params": []}
    assert parse_provider_template("  ") == {}


def test_it_reads_the_json_form_of_a_provider_template():
    spec = '{"name": "promo", "language": "en", "params": ["benefit"]}'
    assert parse_provider_template(spec) == {"name": "promo", "language": "en", "params": ["benefit"]}
    assert provider_template_spec(parse_provider_template(spec)) == "promo:en:benefit"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("promo:es:name,nombres", "Parámetro desconocido en la plantilla del proveedor: nombres"),
        ('{"name": "promo", "params": "name"}', "lista de marcadores"),
        ('{"language": "es"}', "necesita su nombre"),
        ("{name: promo}", "no es JSON válido"),
        ("[1, 2]", None),
    ],
)
def test_it_refuses_a_provider_template_that_would_brake_the_number(spec, says):
    if says is None:  # not JSON-looking: taken as a name, which the provider judges
        assert parse_provider_template(spec)["name"] == "[1, 2]"
        return
    with pytest.raises(TemplateError, match=says):
        parse_provider_template(spec)


def test_it_lists_the_valid_placeholders_when_a_parameter_is_unknown():
    with pytest.raises(TemplateError) as info:
        validate_provider_template({"name": "promo", "params": ["name", "precio"]})
    assert "nombre, nombre_completo, codigo, beneficio, valido_hasta" in str(info.value)
