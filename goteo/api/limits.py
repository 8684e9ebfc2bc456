"""The API's rate limit: so many requests per token and period (GOTEO_API_RATE, e.g. "120/m").

Counted with ninja's throttle in Django's cache. The bundled site's cache lives in each web
process, so with several processes each counts on its own (the limit is per process); a
shared cache (Redis, the database) in CACHES makes it one limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from ninja.throttling import SimpleRateThrottle

DEFAULT_RATE = "120/m"


def api_rate() -> str:
    return str(getattr(settings, "GOTEO_API_RATE", "") or DEFAULT_RATE)


class PerToken(SimpleRateThrottle):
    """ninja's throttle, keyed by the token (not the address) and reading the rate each time,
    so a changed setting applies without a restart."""

    scope = "goteo_api"

    def __init__(self) -> None:  # the rate is read per request, not once at import
        self.rate = None

    def allow_request(self, request: HttpRequest) -> bool:
        rate = api_rate()
        try:
            self.num_requests, self.duration = self.parse_rate(rate)
        except ValueError:
            raise ImproperlyConfigured(
                f"GOTEO_API_RATE={rate!r} no es válido: escríbalo como 120/m (por minuto), 5/s, 1000/h o 10000/d."
            ) from None
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        token = getattr(request, "auth", None)
        if token is None:  # refused before: nothing to count
            return None
        return f"goteo_api_rate_{token.pk}"
