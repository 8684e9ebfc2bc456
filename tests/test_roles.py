"""Roles: the owner opens every page, the counter staff only theirs, an account without a role none."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from goteo.roles import COUNTER, COUNTER_PERMISSIONS, OWNER, PAGE_PERMISSIONS, role_of
from tests.conftest import at
from tests.dashboard import make_user, page_text, pin_page_clock, sign_in

# Pages anyone may reach: signing in and out, the language, the start page's redirect, and
# the public address of a campaign's picture (an unguessable token).
PUBLIC = {"home", "login", "logout", "set_language", "public_media"}


def goteo_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif namespace == "goteo" and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_every_dashboard_page_names_its_permission():
    assert goteo_url_names() - PUBLIC == set(PAGE_PERMISSIONS)


@pytest.fixture
def objects(make_campaign, memory_sender):
    """One of each thing a page's address names, and the address of every page."""
    from goteo.models import Contact, InboundMessage, Segment

    campaign = make_campaign(3)
    contact = Contact.objects.first()
    inbound = InboundMessage.objects.create(
        provider="cloud", provider_message_id="wamid.1", text="hola", received_at=at(2026, 1, 2, 10)
    )
    by_kind = {
        "campaign": campaign.pk,
        "contact": contact.pk,
        "sender": memory_sender.pk,
        "inbound": inbound.pk,
        "reply": inbound.pk,
        "segment": Segment.objects.create(
            name="vip", rules=[{"field": "tag", "op": "has", "value": "vip"}]
        ).pk,
    }

    def address(name: str) -> str:
        kind = name.split("_")[0]
        try:
            return reverse(f"goteo:{name}")
        except NoReverseMatch:  # the page names one thing: its kind is the name's first word
            return reverse(f"goteo:{name}", args=[by_kind[kind]])

    return address


def status_of(client: Client, url: str) -> int:
    return client.get(url).status_code


@pytest.mark.parametrize("name", sorted(PAGE_PERMISSIONS))
def test_the_owner_opens_every_page(client, objects, name):
    sign_in(client, "duena", role=OWNER)
    assert status_of(client, objects(name)) != 403


@pytest.mark.parametrize("name", sorted(PAGE_PERMISSIONS))
def test_the_counter_opens_only_the_counters_pages(client, objects, name):
    sign_in(client, "mostrador", role=COUNTER)
    allowed = PAGE_PERMISSIONS[name] in COUNTER_PERMISSIONS
    assert (status_of(client, objects(name)) != 403) is allowed


@pytest.mark.parametrize("name", sorted(PAGE_PERMISSIONS))
def test_a_staff_account_without_a_role_opens_nothing(client, objects, name):
    sign_in(client, "nadie", role="")
    assert status_of(client, objects(name)) == 403


@pytest.mark.parametrize("action", ["campaign_pause", "campaign_cancel", "campaign_start", "campaign_export"])
def test_the_counter_cannot_steer_a_campaign(client, make_campaign, action):
    from goteo.models import CampaignStatus

    campaign = make_campaign(3)
    sign_in(client, "mostrador", role=COUNTER)
    answer = client.post(reverse(f"goteo:{action}", args=[campaign.pk]))
    assert answer.status_code == 403
    assert "esta página no es para ese rol" in page_text(answer)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_a_post_without_the_csrf_token_is_refused_even_to_the_owner(db, make_campaign):
    from goteo.models import CampaignStatus

    campaign = make_campaign(3)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("duena", role=OWNER))
    assert client.post(reverse("goteo:campaign_pause", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_the_roles_exist_with_their_permissions(db):
    from django.apps import apps

    from goteo.roles import set_up_roles

    set_up_roles(apps)  # as the migration does (a test that flushed the database removed them)
    counter = Group.objects.get(name=COUNTER)
    names = {f"{p.content_type.app_label}.{p.codename}" for p in counter.permissions.all()}
    assert names == set(COUNTER_PERMISSIONS)
    owner = Group.objects.get(name=OWNER)
    owner_names = {f"{p.content_type.app_label}.{p.codename}" for p in owner.permissions.all()}
    assert set(PAGE_PERMISSIONS.values()) <= owner_names


def test_the_header_shows_the_counter_only_its_sections(client, db):
    sign_in(client, "mostrador", role=COUNTER)
    html = client.get(reverse("goteo:campaign_list")).content.decode()
    assert "Campañas" in html
    for hidden in ("Números", "Contactos", "Equipo", "Administración"):
        assert not re.search(rf">\s*{hidden}\s*<", html), hidden


def test_the_owner_gives_a_role_on_the_team_page(client, db):
    sign_in(client, "duena", role=OWNER)
    beto = make_user("beto", role="")
    answer = client.post(reverse("goteo:team"), {"persona": beto.pk, "rol": COUNTER}, follow=True)
    assert "beto ahora es: Mostrador." in page_text(answer)
    assert role_of(beto) == COUNTER
    client.post(reverse("goteo:team"), {"persona": beto.pk, "rol": ""})
    assert role_of(beto) == ""


def test_nobody_changes_their_own_role_or_a_superusers(client, db):
    owner = sign_in(client, "duena", role=OWNER)
    root = make_user("root", superuser=True)
    for person in (owner, root):
        answer = client.post(reverse("goteo:team"), {"persona": person.pk, "rol": COUNTER}, follow=True)
        assert "Ese rol no se cambia desde aquí." in page_text(answer)
    assert role_of(owner) == OWNER and role_of(root) == OWNER


def test_an_unknown_role_is_refused(client, db):
    sign_in(client, "duena", role=OWNER)
    beto = make_user("beto", role=COUNTER)
    answer = client.post(reverse("goteo:team"), {"persona": beto.pk, "rol": "Jefe"}, follow=True)
    assert "Elija un rol de la lista." in page_text(answer)
    assert role_of(beto) == COUNTER


def test_the_counter_cannot_open_the_team_page(client, db):
    sign_in(client, "mostrador", role=COUNTER)
    assert client.get(reverse("goteo:team")).status_code == 403


def test_the_counter_sees_a_campaign_without_its_controls(client, make_campaign, monkeypatch, clock):
    pin_page_clock(monkeypatch, clock)  # while the campaign's promotion is valid
    campaign = make_campaign(3)
    sign_in(client, "mostrador", role=COUNTER)
    html = client.get(reverse("goteo:campaign_detail", args=[campaign.pk])).content.decode()
    assert campaign.name in html
    for control in ("campaign_pause", "campaign_cancel", "campaign_export", "campaign_test_message"):
        assert reverse(f"goteo:{control}", args=[campaign.pk]) not in html, control
    sign_in(client, "duena", role=OWNER)
    html = client.get(reverse("goteo:campaign_detail", args=[campaign.pk])).content.decode()
    assert reverse("goteo:campaign_pause", args=[campaign.pk]) in html


def test_the_team_page_refuses_a_post_without_the_csrf_token(db):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(make_user("duena", role=OWNER))
    beto = make_user("beto", role=COUNTER)
    answer = browser.post(reverse("goteo:team"), {"persona": beto.pk, "rol": OWNER})
    assert answer.status_code == 403
    assert role_of(beto) == COUNTER


def test_the_unidentified_opt_out_warning_is_for_those_who_can_match_it(client, db):
    from goteo.models import InboundMessage

    InboundMessage.objects.create(
        provider="evolution",
        provider_message_id="x1",
        sender_ref="1@lid",
        text="BAJA",
        is_opt_out=True,
        received_at=at(2026, 1, 2, 10),
    )
    sign_in(client, "mostrador", role=COUNTER)
    assert "pedido de baja" not in page_text(client.get(reverse("goteo:campaign_list")))
    sign_in(client, "duena", role=OWNER)
    assert "pedido de baja de alguien sin identificar" in page_text(
        client.get(reverse("goteo:campaign_list"))
    )


def test_a_person_that_is_not_on_the_team_is_not_found(client, db):
    sign_in(client, "duena", role=OWNER)
    for chosen in ("abc", "999", ""):
        assert client.post(reverse("goteo:team"), {"persona": chosen, "rol": COUNTER}).status_code == 404
