"""Helpers for the API's tests: a token per role and requests that carry it."""

from __future__ import annotations

import json
from typing import Any

from tests.dashboard import make_user


def token_for(username: str = "optica", *, role: str = "Dueño", superuser: bool = False) -> str:
    """A new user with ``role`` and a token of theirs; the token itself."""
    from goteo.models import ApiToken

    user = make_user(username, role=role, superuser=superuser)
    _row, raw = ApiToken.issue(user, "pruebas")
    return raw


def call(client, method: str, path: str, token: str | None, body: Any = None, **extra: Any):
    """A request to /api/v1/``path`` with ``Authorization: Bearer token`` and a JSON ``body``."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body) if body is not None else None
    send = getattr(client, method.lower())
    if data is None:
        return send(f"/api/v1/{path}", **headers, **extra)
    return send(f"/api/v1/{path}", data=data, content_type="application/json", **headers, **extra)
