"""The API's rate limit: so many requests per token and period, then a 429 in Spanish with
Retry-After; each token counts on its own and the setting applies without a restart."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from goteo.api import limits
from tests.api_calls import call, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()
    yield
    cache.clear()


def test_the_request_after_the_limit_gets_a_429_with_retry_after(client, settings):
    settings.GOTEO_API_RATE = "3/m"
    token = token_for()

    codes = [call(client, "get", "campaigns/", token).status_code for _ in range(3)]
    refused = call(client, "get", "campaigns/", token)

    assert codes == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json() == {
        "detail": f"Demasiadas solicitudes con este token: espere {refused['Retry-After']} segundos e intente de nuevo."
    }


def test_each_token_has_its_own_count(client, settings):
    settings.GOTEO_API_RATE = "2/m"
    first, second = token_for("ana"), token_for("luis")

    for _ in range(2):
        call(client, "get", "campaigns/", first)

    assert call(client, "get", "campaigns/", first).status_code == 429
    assert call(client, "get", "campaigns/", second).status_code == 200


def test_the_count_ends_with_its_period(client, settings, monkeypatch):
    settings.GOTEO_API_RATE = "1/s"
    token = token_for()
    moments = iter([1000.0, 1000.5, 1001.2])
    monkeypatch.setattr(limits.PerToken, "timer", staticmethod(lambda: next(moments)))

    assert call(client, "get", "campaigns/", token).status_code == 200
    assert call(client, "get", "campaigns/", token).status_code == 429
    assert call(client, "get", "campaigns/", token).status_code == 200


def test_the_default_lets_a_busy_minute_through(client, settings):
    settings.GOTEO_API_RATE = ""
    token = token_for()

    codes = {call(client, "get", "campaigns/", token).status_code for _ in range(120)}

    assert limits.api_rate() == "120/m"
    assert codes == {200}
    assert call(client, "get", "campaigns/", token).status_code == 429


def test_a_refused_request_does_not_count(client, settings):
    settings.GOTEO_API_RATE = "1/m"
    token = token_for()

    for _ in range(3):
        call(client, "get", "campaigns/", "gt_equivocado")

    assert call(client, "get", "campaigns/", token).status_code == 200


def test_a_bad_rate_says_how_to_write_it(client, settings):
    settings.GOTEO_API_RATE = "muchas"
    token = token_for()

    with pytest.raises(
        ImproperlyConfigured, match="GOTEO_API_RATE='muchas' no es válido: escríbalo como 120/m"
    ):
        call(client, "get", "campaigns/", token)
