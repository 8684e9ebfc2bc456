"""Writing a campaign: live preview with variation, audience count, limit warning, forecast,
and launching it or keeping it as a draft."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from goteo.models import Campaign, CampaignStatus, Contact, ExcludedPhone, Promotion, Sender, Tag
from goteo.sending import Engine
from tests.dashboard import page_text

# The dashboard is tested beside real sending runs, which refuse to run inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = "[Hola|Buen día|Qué tal] {name}, {benefit} con {code}"


@pytest.fixture
def people(db):
    """100 consenting people (the first is Daniel Osorio), 2 without consent, 1 opted out."""
    Contact.objects.create(full_name="Daniel Osorio", phone="+573009787566", consent=True)
    Contact.objects.bulk_create(
        Contact(full_name=f"Cliente {i}", phone=f"+57301{1000000 + i:07d}", consent=True) for i in range(99)
    )
    Contact.objects.create(full_name="Sin Permiso", phone="+573020000001", consent=False)
    Contact.objects.create(full_name="Sin Permiso Dos", phone="+573020000002", consent=False)
    Contact.objects.create(full_name="Se Fue", phone="+573020000003", consent=True, opted_out=True)


def form_data(sender, **changes):
    data = {
        "name": "Navidad 2026",
        "promotion": "",
        "new_promotion_name": "Navidad",
        "new_promotion_code": "NAVIDAD2026",
        "new_promotion_benefit": "30% de descuento en Monturas",
        "new_promotion_valid_until": "2026-02-02",
        "template": TEMPLATE,
        "emojis": "✨ 😊",
        "audience": "all",
        "sender": str(sender.pk),
        "daily_limit": "20",
        "delay_seconds": "10",
        "window_start": "09:00",
        "window_end": "19:00",
        "send_days": ["mon", "tue", "wed", "thu", "fri"],
        "skip_holidays": "on",
    }
    data.update(changes)
    return data


def preview(staff, data):
    response = staff.post(reverse("goteo:campaign_preview"), data)
    assert response.status_code == 200
    return page_text(response)


def test_it_shows_the_form_with_a_preview(staff, people, memory_sender):
    response = staff.get(reverse("goteo:campaign_new"))
    text = page_text(response)

    assert response.status_code == 200
    assert "Nueva campaña" in text
    assert "100 personas recibirán la promoción" in text
    assert "Así lo verá Daniel Osorio" in text
    assert 'data-preview-url="/dashboard/promociones/campanas/vista-previa/"' in response.content.decode()


def test_it_previews_three_variations_for_a_sample_contact(staff, people, memory_sender):
    text = preview(staff, form_data(memory_sender))

    lines = [
        line for line in text.splitlines() if "Daniel, 30% de descuento en Monturas con NAVIDAD2026" in line
    ]
    assert len(lines) == 3
    assert len(set(lines)) > 1  # the greeting or the closing emoji varies
    assert all(line.split()[0] in {"Hola", "Buen", "Qué"} for line in lines)
    assert all(line[-1] in "✨😊" for line in lines)


def test_it_counts_the_audience_without_people_who_cannot_receive(staff, people, memory_sender):
    assert "100 personas recibirán la promoción" in preview(staff, form_data(memory_sender))


def test_it_counts_a_tags_audience(staff, people, memory_sender):
    vip = Tag.objects.create(name="vip")
    for contact in Contact.objects.order_by("id")[:3]:
        contact.tags.add(vip)

    text = preview(staff, form_data(memory_sender, audience="tag:vip"))

    assert "3 personas recibirán la promoción" in text


def test_it_forecasts_the_finish_like_the_seed(staff, people, memory_sender):
    text = preview(staff, form_data(memory_sender))

    # Friday 2 January at 10:00, 20 a day on weekdays: Fri, Mon, Tue, Wed, Thu.
    assert "Con 100 personas terminará el jueves 8 de enero." in text
    assert "vencimiento" not in text


def test_it_warns_when_the_finish_is_after_the_promotion_expires(staff, people, memory_sender):
    text = preview(staff, form_data(memory_sender, new_promotion_valid_until="2026-01-06"))

    assert "terminará el jueves 8 de enero" in text
    assert "Eso es después del vencimiento de la promoción (06/01/2026)" in text


def test_it_warns_about_a_daily_limit_above_30(staff, people, memory_sender):
    assert "Límite diario de 31" in preview(staff, form_data(memory_sender, daily_limit="31"))
    assert "Límite diario de" not in preview(staff, form_data(memory_sender, daily_limit="30"))


def test_it_explains_a_broken_template(staff, people, memory_sender):
    text = preview(staff, form_data(memory_sender, template="Hola {nombres}"))

    assert "Marcador no permitido {nombres}. Los válidos son: {nombre}, {nombre_completo}" in text
    assert "vacía" not in text  # the template had text: no second, wrong error


def test_it_previews_a_template_written_with_the_spanish_placeholders(staff, people, memory_sender):
    text = preview(staff, form_data(memory_sender, template="Hola {nombre}, {beneficio} con {codigo}"))

    assert "Marcador no permitido" not in text
    assert "con NAVIDAD2026" in text


def test_it_previews_in_english(staff, people, memory_sender):
    response = staff.post(
        reverse("goteo:campaign_preview"), form_data(memory_sender), HTTP_ACCEPT_LANGUAGE="en"
    )

    text = page_text(response)
    assert "100 people will receive the promotion" in text
    assert "With 100 people it will finish on Thursday, January 8." in text


def test_it_saves_a_draft_with_a_new_promotion(staff, people, memory_sender):
    response = staff.post(reverse("goteo:campaign_new"), form_data(memory_sender, action="save"))

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("goteo:campaign_detail", args=[campaign.pk])
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.send_days == "mon,tue,wed,thu,fri"
    assert campaign.promotion.code == "NAVIDAD2026"
    assert campaign.promotion.valid_until == date(2026, 2, 2)
    assert campaign.messages.count() == 0


def test_it_launches_at_once(staff, people, memory_sender):
    response = staff.post(
        reverse("goteo:campaign_new"), form_data(memory_sender, action="launch"), follow=True
    )

    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.pending_count == 100
    assert campaign.skipped_count == 3
    assert "Campaña iniciada: 100 mensajes por enviar, 3 omitidos." in page_text(response)


def test_it_uses_an_existing_promotion(staff, people, memory_sender):
    promotion = Promotion.objects.create(
        name="Lentes", code="LENTES", benefit="2x1", valid_until=date(2026, 3, 1)
    )
    data = form_data(memory_sender, action="save", promotion=str(promotion.pk), new_promotion_code="")

    staff.post(reverse("goteo:campaign_new"), data)

    assert Campaign.objects.get().promotion == promotion
    assert Promotion.objects.count() == 1


def test_it_asks_for_the_new_promotions_details(staff, people, memory_sender):
    data = form_data(memory_sender, action="save", new_promotion_code="", new_promotion_valid_until="")

    response = staff.post(reverse("goteo:campaign_new"), data)

    assert response.status_code == 200
    assert "Obligatorio para crear la promoción." in page_text(response)
    assert not Campaign.objects.exists()


def test_it_refuses_a_window_that_ends_before_it_starts(staff, people, memory_sender):
    data = form_data(memory_sender, action="save", window_start="19:00", window_end="09:00")

    response = staff.post(reverse("goteo:campaign_new"), data)

    assert "La hora final debe ser posterior a la inicial." in page_text(response)
    assert not Campaign.objects.exists()


def test_it_keeps_a_draft_when_the_promotion_already_expired(staff, people, memory_sender):
    data = form_data(memory_sender, action="launch", new_promotion_valid_until="2025-12-31")

    response = staff.post(reverse("goteo:campaign_new"), data, follow=True)

    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT
    assert "venció el 31/12/2025" in page_text(response)


def test_it_edits_a_draft(staff, people, memory_sender, make_campaign):
    draft = make_campaign(0, launch=False)
    data = form_data(
        memory_sender,
        action="save",
        promotion=str(draft.promotion_id),
        new_promotion_code="",
        daily_limit="25",
    )

    assert staff.get(reverse("goteo:campaign_edit", args=[draft.pk])).status_code == 200
    staff.post(reverse("goteo:campaign_edit", args=[draft.pk]), data)

    draft.refresh_from_db()
    assert draft.daily_limit == 25
    assert draft.name == "Navidad 2026"


def test_it_does_not_edit_a_launched_campaign(staff, make_campaign):
    campaign = make_campaign(2)

    response = staff.get(reverse("goteo:campaign_edit", args=[campaign.pk]), follow=True)

    assert "Solo se pueden editar los borradores y las campañas programadas." in page_text(response)


FOOTER = "Responde BAJA para no recibir más promociones"


def test_it_offers_the_opt_out_text_checked_for_a_new_campaign(staff, people, memory_sender):
    response = staff.get(reverse("goteo:campaign_new"))
    html = response.content.decode()

    assert re.search(r'<input type="checkbox" name="opt_out_footer"[^>]* checked>', html)
    assert FOOTER in page_text(response)  # the first preview shows it


def test_it_previews_the_opt_out_text_only_when_checked(staff, people, memory_sender):
    with_footer = preview(staff, form_data(memory_sender, opt_out_footer="on"))
    without = preview(staff, form_data(memory_sender))

    assert with_footer.count(FOOTER) == 3  # one per variation
    assert FOOTER not in without


def test_it_previews_exactly_what_the_launch_stores(staff, people, memory_sender):
    data = form_data(memory_sender, opt_out_footer="on", template="Hola {name}, {benefit} con {code}")
    shown = preview(staff, data)

    staff.post(reverse("goteo:campaign_new"), data | {"action": "launch"})
    campaign = Campaign.objects.get(name="Navidad 2026")
    stored = campaign.messages.get(contact_name="Daniel Osorio").rendered_text

    assert campaign.opt_out_footer is True
    assert stored.endswith("\n\n" + FOOTER)
    assert stored.split("\n\n")[0][:-2] in shown  # the text before its closing emoji
    assert "Hola Daniel, 30% de descuento en Monturas con NAVIDAD2026" in stored


def test_it_warns_that_the_law_narrows_saturdays(staff, people, memory_sender):
    text = preview(staff, form_data(memory_sender, send_days=["fri", "sat"]))

    assert "Los sábados se envía solo de 09:00 a 15:00 (Ley 2300 de 2023 (Colombia))." in text


def test_it_refuses_a_window_outside_the_legal_hours_naming_the_rule(staff, people, memory_sender):
    response = staff.post(
        reverse("goteo:campaign_new"), form_data(memory_sender, window_end="21:00", action="save")
    )
    text = page_text(response)

    assert response.status_code == 200
    assert "Ley 2300 de 2023" in text
    assert not Campaign.objects.exists()


def test_it_refuses_turning_off_the_opt_out_text_where_the_law_requires_it(
    staff, people, memory_sender, monkeypatch
):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "es")

    response = staff.post(
        reverse("goteo:campaign_new"), form_data(memory_sender, window_end="15:00", action="save")
    )

    assert response.status_code == 200
    assert "LSSI art. 21" in page_text(response)
    assert not Campaign.objects.exists()


def test_it_leaves_numbers_on_an_exclusion_list_out_of_the_count_and_forecast(
    staff, people, memory_sender, clock
):
    phones = Contact.objects.order_by("id").values_list("phone", flat=True)[:30]
    ExcludedPhone.objects.bulk_create(
        ExcludedPhone(phone=phone, list_name="rne", added_at=clock.now()) for phone in phones
    )

    text = preview(staff, form_data(memory_sender))

    assert "70 personas recibirán la promoción" in text
    assert "Con 70 personas terminará el miércoles 7 de enero." in text


def test_it_forecasts_the_wait_of_people_another_promotion_reached(staff, people, make_campaign, clock):
    other = Sender.objects.create(name="otra", backend="memory", daily_cap=30)
    make_campaign(0, sender=other, daily_limit=20, delay_seconds=0)  # all 100 people
    Engine(clock, max_wait=3600).run()  # 20 of them receive it on Friday 2 January

    text = preview(staff, form_data(Sender.objects.get(name="pruebas")))

    # 80 free go out Friday to Wednesday; the 20 wait the 7 days and go on Friday 9.
    assert "Con 100 personas terminará el viernes 9 de enero." in text


def test_it_saves_the_approved_provider_template(staff, people, memory_sender):
    data = form_data(memory_sender, action="save", provider_template="promo_monturas:es:name,code")
    staff.post(reverse("goteo:campaign_new"), data)

    campaign = Campaign.objects.get()
    assert campaign.provider_template == {
        "name": "promo_monturas",
        "language": "es",
        "params": ["name", "code"],
    }
    edit = page_text(staff.get(reverse("goteo:campaign_edit", args=[campaign.pk])))
    assert (
        "promo_monturas:es:name,code"
        in staff.get(reverse("goteo:campaign_edit", args=[campaign.pk])).content.decode()
    )
    assert "Plantilla aprobada del proveedor" in edit


def test_it_refuses_a_provider_template_with_an_unknown_placeholder(staff, people, memory_sender):
    data = form_data(memory_sender, action="save", provider_template="promo:es:name,precio")
    text = page_text(staff.post(reverse("goteo:campaign_new"), data))

    assert not Campaign.objects.exists()
    assert "Parámetro desconocido en la plantilla del proveedor: precio" in text


def test_it_leaves_out_a_phone_someone_opted_out_from(staff, people, memory_sender):
    Contact.objects.create(full_name="Hermano De Se Fue", phone="+573020000003", consent=True)

    assert "100 personas recibirán la promoción" in preview(staff, form_data(memory_sender))


def test_it_offers_buttons_for_each_spanish_placeholder_and_the_alternatives(staff, people, memory_sender):
    html = staff.get(reverse("goteo:campaign_new")).content.decode()

    inserts = re.findall(r'data-insert="([^"]+)"', html)
    assert inserts == [
        "{nombre}",
        "{nombre_completo}",
        "{codigo}",
        "{beneficio}",
        "{valido_hasta}",
        "[Hola|Buen día|Qué tal]",
    ]
    assert "{name}" not in page_text(staff.get(reverse("goteo:campaign_new")))  # the form speaks Spanish


def test_it_puts_the_preview_under_the_template_and_the_provider_template_in_an_advanced_part(
    staff, people, memory_sender
):
    html = staff.get(reverse("goteo:campaign_new")).content.decode()

    assert (
        html.index('id="id_template"') < html.index('id="campaign-preview"') < html.index('id="id_audience"')
    )
    advanced = html[html.index('<details class="advanced"') :]
    assert (
        advanced.index("Avanzado")
        < advanced.index('id="id_provider_template"')
        < advanced.index("</details>")
    )
    assert "Déjelo vacío si no sabe qué es" in advanced


def test_it_takes_dates_day_first_and_hours_on_a_24_hour_clock(staff, people, memory_sender):
    data = form_data(memory_sender, action="save", new_promotion_valid_until="02/02/2026", window_end="18:30")
    staff.post(reverse("goteo:campaign_new"), data)

    campaign = Campaign.objects.get()
    assert campaign.promotion.valid_until == date(2026, 2, 2)
    html = staff.get(reverse("goteo:campaign_edit", args=[campaign.pk])).content.decode()
    assert 'value="18:30"' in html and 'placeholder="HH:MM"' in html
    refused = page_text(
        staff.post(reverse("goteo:campaign_new"), form_data(memory_sender, window_end="6:30 p. m."))
    )
    assert "Introduzca una hora válida" in refused or "Ingrese una hora válida" in refused
