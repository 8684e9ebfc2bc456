"""Helpers for the dashboard's view and browser tests: staff accounts, the page clock, page text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

PASSWORD = "una-clave-de-prueba-larga"


def make_user(username: str = "ana", *, staff: bool = True, superuser: bool = False, role: str = "Dueño"):
    """A user; a staff member has ``role`` (goteo.roles: "Dueño", "Mostrador", or "" for none)."""
    from django.contrib.auth import get_user_model

    from goteo.roles import assign_role

    model = get_user_model()
    if superuser:
        return model.objects.create_superuser(username, f"{username}@example.com", PASSWORD)
    user = model.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=staff)
    if staff and role:
        assign_role(user, role)
    return user


def sign_in(client, username: str = "ana", *, staff: bool = True, role: str = "Dueño"):
    """Create a user and sign the test client in as them."""
    user = make_user(username, staff=staff, role=role)
    client.force_login(user)
    return user


def pin_page_clock(monkeypatch, clock) -> None:
    """Make the dashboard read ``clock`` instead of the system time."""
    monkeypatch.setattr("goteo.web.base.clock", clock)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self.skip += 1
        elif tag in ("p", "li", "div", "tr", "br", "h1", "h2", "section", "option", "td", "th", "dt", "dd"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def page_text(response) -> str:
    """The visible text of an HTML response, one block per line, spaces collapsed."""
    parser = _Text()
    parser.feed(response.content.decode())
    lines = (re.sub(r"\s+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)
