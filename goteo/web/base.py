"""What every dashboard page shares: the clock, the staff check and the security headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render

from goteo.clock import Clock, SystemClock

log = logging.getLogger("goteo.web")

# The pages read the time here, so tests and screenshots can pin it.
clock: Clock = SystemClock()

# Everything the pages load comes from this site: no inline scripts or styles, no frames.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

View = Callable[..., HttpResponseBase]


def now() -> datetime:
    """The current time as the dashboard sees it."""
    return clock.now()


def with_security_headers(response: HttpResponseBase) -> HttpResponseBase:
    """Headers that keep the pages from being framed, sniffed or cached by proxies."""
    response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.setdefault("X-Content-Type-Options", "nosniff")
    response.setdefault("Referrer-Policy", "same-origin")
    response.setdefault("Cache-Control", "no-store, private")
    return response


def secure(view: View) -> View:
    """Add the security headers to a view's responses."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return with_security_headers(view(request, *args, **kwargs))

    return wrapper


def staff_required(view: View) -> View:
    """Signed-in, active staff only: others go to the login page or get a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_staff):
            return render(request, "goteo/denied.html", status=403)
        return view(request, *args, **kwargs)

    return secure(wrapper)


def permission_required(permission: str) -> Callable[[View], View]:
    """Staff holding Django's ``permission`` ("goteo.handle_reply"), given to them directly or
    through a group; other staff get the 403 page. A superuser holds every permission."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                return render(request, "goteo/denied.html", {"page_only": True}, status=403)
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorate


def actor(request: HttpRequest) -> str:
    """Who made a decision, as recorded in the audit log."""
    return request.user.get_username()
