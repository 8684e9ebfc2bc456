"""Automations in the dashboard: created with the campaign's form and when they send, listed in
their own section with their results, their page (who a run would enroll today, who waits and
why, who was late), pause, resume and stop, and what the counter's staff may see.

The engine's side (goteo.automations) is stood in for where a page calls it: ``due_today`` in
the ``engine`` fixture, ``start_automation`` in the two start tests.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from goteo.launch import LaunchError, LaunchResult
from goteo.models import Campaign, CampaignStatus, Contact, MessageStatus
from goteo.models.lifecycle import SkipReason
from goteo.roles import COUNTER
from goteo.triggers import Due
from goteo.web.automation_pages import deadline_text
from tests.conftest import BOGOTA
from tests.dashboard import make_user, page_text
from tests.test_view_campaign_form import form_data

pytestmark = pytest.mark.django_db(transaction=True)

NEW = reverse("goteo:automation_new")


@pytest.fixture
def engine(monkeypatch):
    """``due_today`` answers whoever the test puts in ``engine["due"]``."""
    state: dict[str, list[Contact]] = {"due": []}

    def due_today(campaign, now):
        return [(c, Due("2026", now.date())) for c in state["due"]]

    monkeypatch.setattr("goteo.automations.due_today", due_today)
    return state


@pytest.fixture
def counter(client, clock, monkeypatch):
    """Signed in as the counter's staff (Mostrador): sees campaigns, not contacts."""
    monkeypatch.setattr("goteo.web.base.clock", clock)
    client.force_login(make_user("caja", role=COUNTER))
    return client


def automation(make_campaign, contacts=5, trigger="birthday", **fields) -> Campaign:
    """A launched campaign turned into an automation: its people wait as enrolled ones do."""
    campaign = make_campaign(contacts, **fields)
    Campaign.objects.filter(pk=campaign.pk).update(trigger=trigger, name="Cumpleaños")
    campaign.refresh_from_db()
    return campaign


def create(staff, memory_sender, **changes):
    data = form_data(memory_sender, name="Cumpleaños", action="save", grace_days="7") | changes
    return staff.post(NEW, data)


def test_it_creates_a_birthday_automation(staff, memory_sender, engine):
    response = create(staff, memory_sender, when="cumpleanos", grace_days="5")

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert (campaign.trigger, campaign.grace_days, campaign.status) == ("birthday", 5, CampaignStatus.DRAFT)
    text = page_text(staff.get(response["Location"]))
    assert "Se envía\nel día de su cumpleaños" in text
    assert "5 días: si no sale en ese plazo, se omite para que no llegue tarde" in text
    assert "Iniciar automatización" in text
    assert "birthday" not in text


def test_it_creates_a_reminder_after_the_last_visit(staff, memory_sender, engine):
    response = create(staff, memory_sender, when="ultima_visita", days="365")

    campaign = Campaign.objects.get()
    assert campaign.trigger == "days-since:last_visit:365"
    text = page_text(staff.get(response["Location"]))
    assert "365 días después de su última visita" in text
    assert "days-since" not in text and "last_visit" not in text


def test_the_form_asks_in_the_owners_words(staff, memory_sender):
    text = page_text(staff.get(NEW))

    for words in (
        "Nueva automatización",
        "¿Cuándo se envía?",
        "El día de su cumpleaños",
        "Cuando pasen N días desde su última visita",
        "Días de gracia",
        "si no se puede enviar en estos días, se omite para que no llegue tarde",
    ):
        assert words.lower() in text.lower()
    assert "Fechas (opcional)" not in text  # it starts when started and never ends by itself


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({}, "when", "Elija cuándo se envía."),
        ({"when": "ultima_visita"}, "days", "Escriba cuántos días deben pasar desde su última visita."),
        ({"when": "ultima_visita", "days": "0"}, "days", "Escriba al menos 1 día."),
        (
            {"when": "ultima_visita", "days": "un año"},
            "days",
            "Escriba un número entero de días, por ejemplo 365.",
        ),
        ({"when": "ultima_visita", "days": "4000"}, "days", "Escriba como máximo 3660 días (diez años)."),
        (
            {"when": "cumpleanos", "grace_days": "61"},
            "grace_days",
            "Los días de gracia no pueden pasar de 60.",
        ),
        ({"when": "cumpleanos", "grace_days": "-1"}, "grace_days", "mayor o igual a 0"),
        ({"when": "el lunes"}, "when", "Escoja una opción válida"),
    ],
)
def test_bad_values_are_refused_in_spanish_beside_their_field(staff, memory_sender, changes, field, error):
    response = create(staff, memory_sender, **changes)

    assert response.status_code == 200
    assert Campaign.objects.count() == 0
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert error in " ".join(errors[field])
    assert error in field_group(response.content.decode(), field)


def field_group(html: str, field: str) -> str:
    """The block of the page that holds one field: its label, help, errors and input."""
    groups = html.split('<div class="field">')
    return next(g for g in groups if f'id="id_{field}' in g.split("</fieldset>")[0])


def test_editing_a_draft_keeps_its_trigger(staff, memory_sender, make_campaign):
    draft = make_campaign(2, launch=False, trigger="days-since:last_visit:180")

    html = staff.get(reverse("goteo:campaign_edit", args=[draft.pk])).content.decode()

    assert 'value="180"' in html
    assert re.search(r'<input type="radio" name="when" value="ultima_visita"[^>]* checked>', html)
    assert not re.search(r'<input type="radio" name="when" value="cumpleanos"[^>]* checked>', html)
    response = staff.post(
        reverse("goteo:campaign_edit", args=[draft.pk]),
        form_data(
            memory_sender, name="Control", action="save", when="ultima_visita", days="200", grace_days="3"
        ),
    )
    draft.refresh_from_db()
    assert response.status_code == 302
    assert (draft.trigger, draft.grace_days) == ("days-since:last_visit:200", 3)


def test_the_list_shows_automations_apart_with_their_results(staff, make_campaign):
    make_campaign(3)  # a one-off campaign, «Campaña 1»
    birthdays = automation(make_campaign, 4)
    Campaign.objects.filter(pk=birthdays.pk).update(
        sent_count=20, delivered_count=18, read_count=10, replied_count=3, redeemed_count=2, failed_count=1
    )
    visits = automation(make_campaign, 2, trigger="days-since:last_visit:365")
    Campaign.objects.filter(pk=visits.pk).update(name="Control anual")

    text = page_text(staff.get(reverse("goteo:campaign_list")))

    section = text[text.index("Automatizaciones") : text.index("Campañas\n", text.index("Automatizaciones"))]
    assert "Cumpleaños" in section and "Control anual" in section
    assert "Campaña 1" not in section and "Campaña 1" in text
    assert "Se envía: el día de su cumpleaños" in section
    assert "Se envía: 365 días después de su última visita" in section
    for step in ("Enviados: 20", "Entregados: 18 (90 %)", "Leídos: 10 (50 %)", "Respondieron: 3 (15 %)"):
        assert step in section.splitlines()
    assert "Canjearon: 2 (10 %)" in section.splitlines()
    assert "Esperando: 7" in section  # everyone launched with it (the 3 before it and its 4)
    # Nothing sent yet: sent, failed and skipped instead of an empty funnel.
    control = section[section.index("Control anual") :]
    assert "Enviados: 0" in control and "Fallidos: 0" in control and "Omitidos: 0" in control
    assert "Esperando: 9" in control
    assert "Activa" in section


def test_the_page_says_who_enrolls_today_who_waits_and_who_was_late(staff, make_campaign, engine, clock):
    campaign = automation(make_campaign, 5)
    messages = list(campaign.messages.order_by("id"))
    campaign.messages.filter(pk=messages[0].pk).update(deadline=datetime(2026, 1, 9, 0, 0, tzinfo=BOGOTA))
    campaign.messages.filter(pk=messages[1].pk).update(deadline=datetime(2026, 1, 9, 15, 30, tzinfo=BOGOTA))
    campaign.messages.filter(pk=messages[3].pk).skip_pending(SkipReason.LATE, clock.now())
    campaign.messages.filter(pk=messages[4].pk).skip_pending(SkipReason.DATE_MOVED, clock.now())
    engine["due"] = [
        Contact.objects.create(full_name=f"Cumpleañero {i}", phone=f"+5730055500{i:02d}", consent=True)
        for i in range(12)
    ]
    clock.set(datetime(2026, 1, 2, 20, 0, tzinfo=BOGOTA))  # after the window: they wait

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Hoy se inscribirían 12 personas." in text
    assert "Cumpleañero 0 · +57300****000" in text
    assert "Cumpleañero 9" in text and "Cumpleañero 10" not in text
    assert "y 2 más" in text
    assert "3 personas esperan su mensaje: fuera del horario" in text
    assert f"{messages[0].contact_name} · " in text
    assert "se omite si no sale hasta el 08/01" in text
    assert "se omite si no sale antes del 09/01 a las 15:30" in text
    assert "Pasó el plazo para enviarlo: 1" in text
    assert "La fecha cambió: 1" in text
    assert f"{messages[3].contact_name} · " in text and "— pasó el plazo para enviarlo" in text
    assert "Automatización: Cumpleaños" in text
    assert "Terminación estimada" not in text  # it never finishes
    assert "+5730020000" not in text  # phones masked


def test_the_counter_sees_the_figures_but_no_names(counter, make_campaign, engine):
    campaign = automation(make_campaign, 3)
    engine["due"] = [Contact.objects.create(full_name="Cumpleañera Uno", phone="+573005550001", consent=True)]

    text = page_text(counter.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Hoy se inscribiría 1 persona." in text
    assert "3 personas esperan su mensaje" in text
    assert "Cumpleañera Uno" not in text
    assert "Persona 0 Prueba" not in text
    assert "Nueva automatización" not in page_text(counter.get(reverse("goteo:campaign_list")))
    assert counter.get(NEW).status_code == 403
    assert counter.post(reverse("goteo:campaign_pause", args=[campaign.pk])).status_code == 403


def test_the_owner_sees_the_names(staff, make_campaign, engine):
    campaign = automation(make_campaign, 3)
    engine["due"] = [Contact.objects.create(full_name="Cumpleañera Uno", phone="+573005550001", consent=True)]

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Cumpleañera Uno · +57300****001" in text
    assert "Persona 0 Prueba" in text


def test_it_pauses_resumes_and_stops_an_automation(staff, make_campaign, engine):
    campaign = automation(make_campaign, 4)

    def act(name: str, client: Client = staff) -> str:
        return page_text(client.post(reverse(f"goteo:{name}", args=[campaign.pk]), follow=True))

    paused = act("campaign_pause")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert "Automatización pausada: no inscribe ni envía; los mensajes pendientes esperan." in paused

    resumed = act("campaign_resume")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert "Automatización reanudada." in resumed
    assert "Estado: Activa" in resumed

    confirm = page_text(staff.get(reverse("goteo:campaign_cancel", args=[campaign.pk])))
    assert "¿Detener «Cumpleaños»?" in confirm
    assert "No inscribirá a nadie más y los 4 mensajes pendientes quedarán omitidos." in confirm

    stopped = act("campaign_cancel")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert campaign.messages.filter(status=MessageStatus.PENDING).count() == 0
    assert (
        "Automatización detenida: no inscribirá a nadie más y 4 mensajes pendientes quedaron omitidos."
        in stopped
    )
    assert "Hoy se inscribiría" not in stopped  # a stopped automation enrolls nobody


def test_the_start_button_starts_the_automation(staff, make_campaign, engine, monkeypatch):
    draft = make_campaign(2, launch=False, trigger="birthday")
    calls = []

    def start_automation(campaign, now, *, simulate=False):
        calls.append((campaign.pk, simulate))
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE)
        return LaunchResult(total=3, pending=2, skipped=Counter({"no_consent": 1}))

    monkeypatch.setattr("goteo.automations.start_automation", start_automation)
    monkeypatch.setattr("goteo.launch.campaign_launch", lambda *a, **k: pytest.fail("launched as a campaign"))

    text = page_text(staff.post(reverse("goteo:campaign_start", args=[draft.pk]), follow=True))

    assert calls == [(draft.pk, False)]
    assert "Automatización iniciada: hoy se inscribieron 2 personas y se omitieron 1." in text
    assert draft.messages.count() == 0  # the one-off launch never ran


def test_a_refused_start_says_why(staff, make_campaign, engine, monkeypatch):
    draft = make_campaign(2, launch=False, trigger="birthday")

    def refuse(campaign, now, *, simulate=False):
        raise LaunchError("El número está desactivado.")

    monkeypatch.setattr("goteo.automations.start_automation", refuse)

    text = page_text(staff.post(reverse("goteo:campaign_start", args=[draft.pk]), follow=True))

    assert "El número está desactivado." in text
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT


def test_the_page_adds_a_few_queries_never_one_per_message(
    staff, make_campaign, engine, django_assert_max_num_queries
):
    small, big = automation(make_campaign, 3), automation(make_campaign, 60)
    staff.get(reverse("goteo:campaign_detail", args=[small.pk]))

    with django_assert_max_num_queries(40) as few:
        staff.get(reverse("goteo:campaign_detail", args=[small.pk]))
    with django_assert_max_num_queries(40) as many:
        staff.get(reverse("goteo:campaign_detail", args=[big.pk]))

    sql = [q["sql"] for q in many.captured_queries]
    assert len(few.captured_queries) == len(many.captured_queries), "\n".join(sql)


@pytest.mark.parametrize(
    ("deadline", "said"),
    [
        (datetime(2026, 12, 15, 0, 0, tzinfo=BOGOTA), "se omite si no sale hasta el 14/12"),
        (datetime(2026, 12, 14, 18, 0, tzinfo=BOGOTA), "se omite si no sale antes del 14/12 a las 18:00"),
        (datetime(2026, 12, 14, 23, 59, 59, 999999, tzinfo=BOGOTA), "se omite si no sale hasta el 14/12"),
        (datetime(2026, 12, 15, 5, 0, tzinfo=BOGOTA.__class__("UTC")), "se omite si no sale hasta el 14/12"),
    ],
)
def test_the_deadline_is_said_in_the_numbers_days(deadline, said):
    assert deadline_text(deadline, BOGOTA) == said


def test_from_the_form_to_the_people_waiting_with_the_real_engine(staff, memory_sender):
    """No stand-ins: the form creates it, the button starts it, its page names who waits."""
    Contact.objects.create(
        full_name="Ana Ruiz", phone="+573001000001", consent=True, birth_date=date(1990, 1, 2)
    )
    Contact.objects.create(
        full_name="Beto Paz", phone="+573001000002", consent=True, birth_date=date(1990, 5, 5)
    )
    create(staff, memory_sender, when="cumpleanos", grace_days="7")
    campaign = Campaign.objects.get()

    started = page_text(staff.post(reverse("goteo:campaign_start", args=[campaign.pk]), follow=True))
    page = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Automatización iniciada: hoy se inscribieron 1 personas y se omitieron 0." in started
    assert list(campaign.messages.values_list("contact_name", "occurrence")) == [("Ana Ruiz", "2026")]
    assert "1 persona espera su mensaje" in page and "Hoy se inscribirían 0 personas." in page
    assert "Ana Ruiz · +57300****001\nse omite si no sale hasta el 09/01" in page  # her birthday + 7 days
    assert "Beto Paz" not in page
