"""Who is asking: the bearer token, the user it acts as, and what that user's role allows.

A token acts as its user (goteo.roles): each endpoint names the Django permission it needs,
the same the dashboard's page for it needs, so a counter token can read how a campaign goes
but never a person's name or phone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from goteo.clock import Clock, SystemClock
from goteo.models import ApiToken

# The API reads the time here, so tests can pin it.
clock: Clock = SystemClock()
# Recording every use would write a row per request; a minute is close enough to say
# whether a token is still in use.
TOUCH_EVERY = timedelta(minutes=1)

# Each permission's refusal, saying what the token's user may not do.
REFUSALS = {
    "goteo.view_contact": "ver los datos de los contactos",
    "goteo.add_contact": "crear contactos",
    "goteo.change_contact": "modificar contactos",
    "goteo.view_campaign": "ver las campañas",
    "goteo.change_campaign": "pausar ni reanudar campañas",
}


def now() -> datetime:
    return clock.now()


class BearerToken(HttpBearer):
    """``Authorization: Bearer gt_…``: the live token (ApiToken.find), or None (a 401)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.find(token.strip())
        if found is None:
            return None
        moment = now()
        if found.last_used_at is None or moment - found.last_used_at >= TOUCH_EVERY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=moment)
            found.last_used_at = moment
        request.user = found.user
        return found


def token_of(request: HttpRequest) -> ApiToken:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return token


def require(request: HttpRequest, *permissions: str) -> None:
    """Refuse with a 403 in Spanish unless the token's user has every one of ``permissions``."""
    user: Any = token_of(request).user
    for permission in permissions:
        if not user.has_perm(permission):
            what = REFUSALS.get(permission, permission)
            raise AuthorizationError(message=f"Su usuario no tiene permiso para {what}.")


def actor(request: HttpRequest) -> str:
    """Who acted, for events and logs: ``api:ana (gt_AbC1…)``."""
    token = token_of(request)
    return f"api:{token.user.get_username()} ({token.prefix}…)"
