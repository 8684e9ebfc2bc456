"""Signing in and out, and who may see what: staff only, CSRF on every POST, safe headers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.dashboard import PASSWORD, make_user, page_text, pin_page_clock, sign_in

PAGES = [
    ("goteo:campaign_list", []),
    ("goteo:campaign_new", []),
    ("goteo:campaign_detail", ["campaign"]),
    ("goteo:campaign_live", ["campaign"]),
    ("goteo:campaign_edit", ["draft"]),
    ("goteo:campaign_cancel", ["campaign"]),
    ("goteo:campaign_test_message", ["campaign"]),
    ("goteo:campaign_recipients", ["campaign"]),
    ("goteo:campaign_export", ["campaign"]),
    ("goteo:contact_list", []),
    ("goteo:contact_import", []),
    ("goteo:sender_list", []),
    ("goteo:sender_new", []),
    ("goteo:sender_edit", ["sender"]),
]
ACTIONS = [
    ("goteo:campaign_preview", []),
    ("goteo:campaign_start", ["campaign"]),
    ("goteo:campaign_pause", ["campaign"]),
    ("goteo:campaign_resume", ["campaign"]),
    ("goteo:campaign_cancel", ["campaign"]),
    ("goteo:campaign_retry_failed", ["campaign"]),
    ("goteo:campaign_test_message", ["campaign"]),
    ("goteo:campaign_resolve_unknown", ["campaign"]),
    ("goteo:campaign_new", []),
    ("goteo:contact_import", []),
    ("goteo:contact_opt_out", ["contact"]),
    ("goteo:sender_new", []),
    ("goteo:sender_edit", ["sender"]),
    ("goteo:sender_check", ["sender"]),
    ("goteo:sender_unbrake", ["sender"]),
]


@pytest.fixture
def objects(make_campaign, memory_sender, clock, monkeypatch):
    pin_page_clock(monkeypatch, clock)
    campaign = make_campaign(3)
    draft = make_campaign(1, launch=False)
    return {
        "campaign": campaign.pk,
        "draft": draft.pk,
        "sender": memory_sender.pk,
        "contact": campaign.messages.first().contact_id,
    }


def url(name, args, objects):
    return reverse(name, args=[objects[a] for a in args])


def test_it_shows_the_login_page_in_spanish_by_default(client, db):
    response = client.get(reverse("goteo:login"))

    assert response.status_code == 200
    assert "Ingresar al panel de promociones" in page_text(response)
    assert '<html lang="es">' in response.content.decode()


def test_it_shows_the_login_page_in_english_when_asked(client, db):
    response = client.get(reverse("goteo:login"), HTTP_ACCEPT_LANGUAGE="en")

    assert "Sign in to the promotions dashboard" in page_text(response)


def test_it_switches_language_with_the_menu(client, db):
    response = client.post(reverse("goteo:set_language"), {"language": "en", "next": "/dashboard/ingresar/"})
    assert response.status_code == 302

    assert "Sign in to the promotions dashboard" in page_text(client.get(reverse("goteo:login")))


def test_it_signs_in_staff_and_lands_on_the_campaigns(client, db):
    make_user("ana")

    response = client.post(reverse("goteo:login"), {"username": "ana", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("goteo:campaign_list")


def test_it_refuses_to_sign_in_a_non_staff_account(client, db):
    make_user("beto", staff=False)

    response = client.post(reverse("goteo:login"), {"username": "beto", "password": PASSWORD})

    assert response.status_code == 200
    assert "Esta cuenta no tiene acceso al panel" in page_text(response)
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_wrong_password(client, db):
    make_user("ana")

    response = client.post(reverse("goteo:login"), {"username": "ana", "password": "otra"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_signs_out_with_a_post(client, db):
    sign_in(client)

    response = client.post(reverse("goteo:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, objects, name, args):
    target = url(name, args, objects)

    response = client.get(target)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("goteo:login") + "?next=")


@pytest.mark.parametrize(("name", "args"), ACTIONS)
def test_it_sends_anonymous_posts_to_the_login_page(client, objects, name, args):
    response = client.post(url(name, args, objects))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("goteo:login"))


@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_it_denies_signed_in_people_who_are_not_staff(client, objects, name, args):
    sign_in(client, "beto", staff=False)

    response = (
        client.post(url(name, args, objects))
        if (name, args) in ACTIONS
        else client.get(url(name, args, objects))
    )

    assert response.status_code == 403
    assert "Sin acceso" in page_text(response)


@pytest.mark.parametrize(("name", "args"), ACTIONS)
def test_it_rejects_posts_without_the_csrf_token(objects, name, args):
    client = Client(enforce_csrf_checks=True)
    sign_in(client)

    response = client.post(url(name, args, objects), {"decision": "sent"})

    assert response.status_code == 403


def test_it_rejects_a_logout_without_the_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    sign_in(client)

    assert client.post(reverse("goteo:logout")).status_code == 403
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_it_sends_security_headers_on_every_page(client, objects, name, args):
    sign_in(client)

    response = client.get(url(name, args, objects))

    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


def test_it_keeps_the_session_cookie_away_from_scripts(client, db):
    make_user("ana")

    response = client.post(reverse("goteo:login"), {"username": "ana", "password": PASSWORD})

    assert response.cookies["sessionid"]["httponly"]


def test_it_redirects_the_root_to_the_campaigns(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("goteo:campaign_list")
