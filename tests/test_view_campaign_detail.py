"""The campaign page: the seed's card, the chart, the sender's connection and live refresh."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, WorkerHeartbeat
from goteo.sending import Engine
from goteo.web.formatting import contact_noun
from tests.conftest import BOGOTA
from tests.dashboard import page_text

# The dashboard is tested beside real sending runs, which refuse to run inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_NOON = datetime(2026, 1, 5, 12, 0, tzinfo=BOGOTA)


def seed_week(make_campaign, clock) -> Campaign:
    """The seed's campaign after Friday and Monday: 100 people, 20 a day, 40 sent."""
    campaign = make_campaign(100, daily_limit=20)
    Campaign.objects.filter(pk=campaign.pk).update(name="Navidad 2026")
    Engine(clock, max_wait=3600).run([campaign.pk])
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=BOGOTA))
    Engine(clock, max_wait=3600).run([campaign.pk])
    clock.set(MONDAY_NOON)
    campaign.refresh_from_db()
    return campaign


def test_it_shows_the_seed_card(staff, make_campaign, clock):
    campaign = seed_week(make_campaign, clock)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Campaña: Navidad 2026" in text
    assert "Total: 100 clientes" in text
    assert "✅ Enviados: 40 de 100 (40%)" in text
    assert "⏳ Pendientes: 60 (60%)" in text
    assert "❌ Fallidos: 0" in text.splitlines()
    assert "Estado: En progreso" in text
    assert "Próximo envío: Mañana 09:00" in text
    assert "Terminación estimada: jueves 8 de enero de 2026" in text


def test_it_shows_the_progress_bar(staff, make_campaign, clock):
    campaign = seed_week(make_campaign, clock)

    html = staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])).content.decode()

    assert '<progress max="100" value="40"' in html


def test_it_shows_skipped_and_unknown_counts(staff, make_campaign, clock):
    campaign = make_campaign(10)
    messages = list(campaign.messages.order_by("id"))
    Message.move(Message.objects.filter(pk=messages[0].pk), MessageStatus.UNKNOWN, clock.now())
    Message.objects.filter(pk__in=[m.pk for m in messages[1:3]]).skip_pending("operator", clock.now())

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "⏭️ Omitidos: 2 (no pueden recibirla; fuera del avance)" in text
    assert "❓ Sin confirmar: 1 (12%)" in text  # of the 8 who can receive it
    assert "Revisar sin confirmar (1)" in text


def test_it_charts_the_days_sent_and_the_sending_days_to_come(staff, make_campaign, clock):
    campaign = seed_week(make_campaign, clock)

    response = staff.get(reverse("goteo:campaign_detail", args=[campaign.pk]))
    html, text = response.content.decode(), page_text(response)

    titles = re.findall(r"<title>([^<]+)</title>", html)[1:]  # the page's own title first
    assert titles == [
        "viernes 2 de enero de 2026: 20 enviados",
        "lunes 5 de enero de 2026: 20 enviados",  # the weekend is no sending day: not drawn
        "martes 6 de enero de 2026: 20 previstos",
        "miércoles 7 de enero de 2026: 20 previstos",
        "jueves 8 de enero de 2026: 20 previstos",
    ]
    assert (
        "40 enviados en estos días. Faltan 60: si nada cambia, salen en 3 días de envío y termina el "
        "jueves 8 de enero de 2026." in text
    )
    assert "límite 20 al día" in text


def test_it_keeps_one_scale_the_daily_limit_whatever_was_sent(staff, make_campaign, clock):
    campaign = make_campaign(5, daily_limit=20)
    Engine(clock, max_wait=3600).run([campaign.pk])  # 5 of a possible 20

    html = staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])).content.decode()

    heights = [
        int(h)
        for h in re.findall(r'class="chart-bar"', html)
        and re.findall(r'height="(\d+)" class="chart-bar"', html)
    ]
    assert heights == [round((160 - 20 - 26) * 5 / 20)]  # a quarter of the plot, not all of it


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ("draft", "Cuando inicie la campaña, aquí verá cuántos mensajes salen cada día y cuándo termina."),
        ("quiet", "En sus últimos 30 días no salió ningún mensaje de esta campaña (en total salieron 3)."),
    ],
)
def test_it_says_what_an_empty_chart_means(staff, make_campaign, clock, setup, says):
    campaign = make_campaign(9, launch=setup != "draft", daily_limit=3, valid_until=date(2026, 12, 31))
    if setup == "quiet":  # three went out, then it was paused for weeks
        Engine(clock, max_wait=3600).run([campaign.pk])
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
        clock.advance(days=45)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert says in text


def test_it_shows_the_senders_connection(staff, make_campaign, clock):
    campaign = make_campaign(3)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Conectado" in text
    assert "conectado (memoria)" in text


def test_it_shows_a_disconnected_sender(staff, make_campaign, clock):
    from goteo.transports.memory import MemoryTransport

    MemoryTransport.connected = False
    campaign = make_campaign(3)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Desconectado" in text
    assert "WhatsApp desconectado" in text


def test_it_refreshes_the_card_while_the_campaign_sends(staff, make_campaign, clock):
    campaign = make_campaign(10, daily_limit=20)
    live_url = reverse("goteo:campaign_live", args=[campaign.pk])
    html = staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])).content.decode()
    assert f'data-refresh-url="{live_url}"' in html

    Engine(clock, max_wait=3600).run([campaign.pk])
    partial = staff.get(live_url)

    assert "✅ Enviados: 10 de 10 (100%)" in page_text(partial)
    assert "Estado: Completada" in page_text(partial)
    assert "data-refresh-url" not in partial.content.decode()  # finished: polling stops
    assert "<html" not in partial.content.decode()


def test_it_is_in_english_on_request(staff, make_campaign, clock):
    campaign = seed_week(make_campaign, clock)

    response = staff.get(reverse("goteo:campaign_detail", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page_text(response)

    assert "Total: 100 customers" in text
    assert "✅ Sent: 40 of 100 (40%)" in text
    assert "Status: In progress" in text
    assert "Next send: Tomorrow 09:00" in text
    assert "Estimated completion: Thursday, January 8, 2026" in text


def test_it_offers_start_and_edit_for_a_draft(staff, make_campaign):
    campaign = make_campaign(3, launch=False)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Estado: Borrador" in text
    assert "Iniciar campaña" in text
    assert "Editar" in text
    assert "Pausar" not in text


def test_it_reads_counters_not_the_message_table(staff, make_campaign, clock, django_assert_max_num_queries):
    small = make_campaign(5)
    big = make_campaign(300)
    url = reverse("goteo:campaign_detail", args=[small.pk])
    staff.get(url)
    # A few constant queries: the last send, the chart's coming days, the account's permissions
    # (for the links it may see); never one per message.
    with django_assert_max_num_queries(27) as small_queries:
        staff.get(url)
    with django_assert_max_num_queries(27) as big_queries:
        staff.get(reverse("goteo:campaign_detail", args=[big.pk]))

    assert len(small_queries.captured_queries) == len(big_queries.captured_queries)
    counting = [q["sql"] for q in big_queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # The chart counts within a few days of the (campaign, sent_at) index, the number's risk
    # within its recent claims, and its history only up to the few sends that make it known.
    assert all(
        ('"goteo_message"."sent_at" >= ' in sql and '"goteo_message"."sent_at" < ' in sql)
        or '"goteo_message"."claimed_at" > ' in sql
        or " LIMIT " in sql
        for sql in counting
    )


def test_it_answers_404_for_a_missing_campaign(staff):
    assert staff.get(reverse("goteo:campaign_detail", args=[999])).status_code == 404


def test_it_shows_the_numbers_risk_and_its_reasons(staff, make_campaign):
    campaign = make_campaign(3)  # a number with no history and no warm-up

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Riesgo del número: 🟡 atención" in text
    assert "número con poco historial (0 enviados) y sin calentamiento" in text


def test_it_shows_the_warm_up_stage(staff, make_campaign, memory_sender):
    memory_sender.warmup_started_on = date(2026, 1, 2)
    memory_sender.save()
    campaign = make_campaign(3)

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))

    assert "Calentamiento: semana 1 de 3, máximo 5 al día hasta el 08/01/2026" in text
    assert "Riesgo del número: 🟢 bajo" in text


def test_it_counts_the_people_waiting_for_the_frequency_cap(staff, make_campaign, clock):
    make_campaign(10)
    Engine(clock, max_wait=3600).run()  # another promotion reaches ten people on Friday 2
    waiting = make_campaign(0)  # the same ten

    text = page_text(staff.get(reverse("goteo:campaign_detail", args=[waiting.pk])))

    assert "10 personas esperan el tope de frecuencia" in text
    assert "el primero queda libre el viernes 9 de enero de 2026" in text.lower()


def test_it_shows_the_new_rules_in_english(staff, make_campaign, memory_sender, clock):
    make_campaign(10)
    Engine(clock, max_wait=3600).run()
    waiting = make_campaign(0)
    memory_sender.warmup_started_on = date(2026, 1, 2)  # marked new after the first ten
    memory_sender.save()

    text = page_text(
        staff.get(reverse("goteo:campaign_detail", args=[waiting.pk]), HTTP_ACCEPT_LANGUAGE="en")
    )

    assert "Number risk: 🟢 low" in text
    assert "Warm-up: week 1 of 3, at most 5 a day until 08/01/2026" in text
    assert "10 people are waiting for the frequency cap" in text


def test_it_says_whether_anyone_is_sending(staff, make_campaign, clock):
    campaign = make_campaign(3)
    url = reverse("goteo:campaign_detail", args=[campaign.pk])

    assert (
        "⚠ El envío automático está detenido (todavía no ha funcionado nunca) y hay promociones que "
        "deberían estar saliendo ahora: no sale nada. Avise a quien instaló goteo."
    ) in page_text(staff.get(url))

    WorkerHeartbeat.beat("tienda:41", clock.now() - timedelta(seconds=5))
    Engine(clock, max_wait=0).run([campaign.pk])  # one goes out
    clock.advance(minutes=2)
    WorkerHeartbeat.beat("tienda:41", clock.now() - timedelta(seconds=5))
    live = page_text(staff.get(reverse("goteo:campaign_live", args=[campaign.pk])))
    assert "Envío automático: activo, último envío hace 2 min." in live
    assert "Envío automático: activo, último envío hace 2 min." in page_text(
        staff.get(reverse("goteo:campaign_list"))
    )


def test_it_calls_people_what_the_installation_calls_them(staff, make_campaign, clock, settings):
    many = make_campaign(100)

    assert "Total: 100 clientes" in page_text(staff.get(reverse("goteo:campaign_detail", args=[many.pk])))
    settings.GOTEO_CONTACT_NOUN = "pacientes"  # GOTEO_CONTACT_NOUN=pacientes, the optical shop's word
    assert "Total: 100 pacientes" in page_text(staff.get(reverse("goteo:campaign_detail", args=[many.pk])))
    assert (contact_noun(1), contact_noun(2)) == ("paciente", "pacientes")
    settings.GOTEO_CONTACT_NOUN = "usuario,usuarios"
    assert (contact_noun(1), contact_noun(2)) == ("usuario", "usuarios")
