"""The API's door: a bearer token that is live and whose user is active, or a 401 in Spanish;
the schema and its page open to anyone, served from this site, not a CDN."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache

from goteo.models import ApiToken
from tests.api_calls import call, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # the rate limit counts in the cache; each test starts with none used
    yield
    cache.clear()


@pytest.fixture
def pinned(monkeypatch, clock):
    monkeypatch.setattr("goteo.api.auth.clock", clock)
    return clock


def test_a_request_without_a_token_is_refused_in_spanish(client):
    response = call(client, "get", "campaigns/", None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "detail": "Falta el token: envíe la cabecera «Authorization: Bearer SU_TOKEN»."
    }


@pytest.mark.parametrize("header", ["Bearer gt_no-existe", "Bearer ", "Basic YW5hOmNsYXZl", "gt_sin-esquema"])
def test_a_wrong_token_or_scheme_is_refused(client, header):
    token_for()

    response = client.get("/api/v1/campaigns/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["detail"].startswith("El token no es válido")


def test_a_live_token_is_let_in(client):
    token = token_for()

    assert call(client, "get", "campaigns/", token).status_code == 200


def test_a_revoked_token_stops_working_at_once(client, clock):
    token = token_for()
    assert call(client, "get", "campaigns/", token).status_code == 200

    ApiToken.objects.get().revoke(clock.now())

    assert call(client, "get", "campaigns/", token).status_code == 401


def test_the_token_of_a_deactivated_user_stops_working(client):
    token = token_for()
    user = ApiToken.objects.get().user
    user.is_active = False
    user.save()

    assert call(client, "get", "campaigns/", token).status_code == 401


def test_the_last_use_is_written_at_most_once_a_minute(client, pinned):
    token = token_for()
    start = pinned.now()

    call(client, "get", "campaigns/", token)
    assert ApiToken.objects.get().last_used_at == start

    pinned.advance(seconds=30)
    call(client, "get", "campaigns/", token)
    assert ApiToken.objects.get().last_used_at == start

    pinned.advance(seconds=31)
    call(client, "get", "campaigns/", token)
    assert ApiToken.objects.get().last_used_at == start + timedelta(seconds=61)


def test_a_session_login_alone_does_not_open_the_api(client):
    from tests.dashboard import sign_in

    sign_in(client)

    assert call(client, "get", "campaigns/", None).status_code == 401


def test_the_schema_opens_without_signing_in_and_lists_every_path(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "goteo · API"
    assert set(schema["paths"]) == {
        "/api/v1/contacts/",
        "/api/v1/contacts/{phone}/",
        "/api/v1/contacts/{phone}/opt-out/",
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{pk}/",
        "/api/v1/campaigns/{pk}/pause/",
        "/api/v1/campaigns/{pk}/resume/",
        "/api/v1/campaigns/{pk}/messages/",
        "/api/v1/automations/",
        "/api/v1/automations/{pk}/",
        "/api/v1/automations/{pk}/pause/",
        "/api/v1/automations/{pk}/resume/",
        "/api/v1/automations/{pk}/messages/",
    }
    assert schema["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert all(op["security"] == [{"BearerToken": []}] for op in operations)
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert "400" in schema["paths"]["/api/v1/contacts/"]["post"]["responses"]
    assert "422" not in json.dumps(schema["paths"]["/api/v1/contacts/"])


def test_the_docs_page_opens_without_signing_in_and_loads_only_this_sites_files(client):
    response = client.get("/api/v1/docs")

    page = response.content.decode()
    assert response.status_code == 200
    assert '"url": "/api/v1/openapi.json"' in page
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
