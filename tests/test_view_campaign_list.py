"""The campaign list at the seed's URL: status, progress bar, counts with percentages, next send."""

from __future__ import annotations

from django.urls import reverse

from goteo.models import Campaign
from goteo.sending import Engine
from tests.dashboard import page_text

URL = "/dashboard/promociones/campanas/"


def test_it_lives_at_the_seeds_url():
    assert reverse("goteo:campaign_list") == URL


def test_it_lists_each_campaign_with_counts_and_next_send(staff, make_campaign, clock):
    campaign = make_campaign(100, daily_limit=20)
    Engine(clock, max_wait=3600).run([campaign.pk])

    response = staff.get(URL)
    text = page_text(response)

    assert response.status_code == 200
    assert campaign.name in text
    assert "En progreso" in text
    assert "✅ Enviados: 20 de 100 (20%)" in text
    assert "⏳ Pendientes: 80 (80%)" in text
    assert "❌ Fallidos: 0 (0%)" in text
    assert "Total: 100" in text
    assert "Próximo envío: Lunes 09:00" in text  # Friday's 20 are out; no weekend sending
    assert '<progress max="100" value="20"' in response.content.decode()


def test_it_formats_large_numbers_the_colombian_way(staff, make_campaign):
    campaign = make_campaign(3)
    Campaign.objects.filter(pk=campaign.pk).update(total_count=1234567, pending_count=1234564)

    assert "Total: 1.234.567" in page_text(staff.get(URL))


def test_it_filters_by_status(staff, make_campaign):
    active = make_campaign(2)
    draft = make_campaign(2, launch=False)

    text = page_text(staff.get(URL + "?estado=draft"))

    assert draft.name in text
    assert active.name not in text


def test_it_invites_to_create_the_first_campaign(staff):
    text = page_text(staff.get(URL))

    assert "Todavía no hay campañas." in text
    assert "Crear la primera campaña" in text


def test_it_does_not_count_messages_per_request(staff, make_campaign, django_assert_max_num_queries):
    make_campaign(5)
    staff.get(URL)
    with django_assert_max_num_queries(40) as few:
        staff.get(URL)
    make_campaign(400)
    with django_assert_max_num_queries(60) as more:
        staff.get(URL)

    sql = " ".join(q["sql"] for q in more.captured_queries)
    assert "COUNT(" not in sql.upper().replace('COUNT(*) AS "__COUNT"', "")  # only the paginator's count
    assert len(more.captured_queries) - len(few.captured_queries) <= 8  # per campaign, not per message


def reach_ten_people(make_campaign, clock):
    """Another campaign sends its promotion to ten people on Friday 2 January."""
    make_campaign(10)
    Engine(clock, max_wait=3600).run()


def test_it_shows_the_day_people_become_free_when_everyone_left_waits(staff, make_campaign, clock):
    reach_ten_people(make_campaign, clock)
    waiting = make_campaign(0)  # the same ten people, inside the 7 days

    text = page_text(staff.get(URL + "?estado=active"))

    assert waiting.pending_count == 10
    assert "Próximo envío: 09/01/2026 09:00" in text


def test_it_does_not_look_up_held_people_while_others_are_free(staff, make_campaign, clock, monkeypatch):
    reach_ten_people(make_campaign, clock)
    make_campaign(25)  # the ten reached ones wait, 25 new people are free

    def fail(*args, **kwargs):
        raise AssertionError("held messages looked up for the list")

    monkeypatch.setattr("goteo.status.held_messages", fail)

    assert staff.get(URL).status_code == 200


def test_it_shows_the_skipped_apart_from_the_progress(staff, make_campaign):
    """The list card says how many were left out, as the campaign page and the console do."""
    campaign = make_campaign(10)
    Campaign.objects.filter(pk=campaign.pk).update(total_count=12, skipped_count=2)

    text = page_text(staff.get(URL))

    assert "⏭️ Omitidos: 2" in text
    assert "✅ Enviados: 0 de 10 (0%)" in text  # the skipped stay out of the progress
