"""Two requests creating the same new phone at once make one contact, not two.

Each request is stopped inside its transaction, after looking the phone up and before
saving, until the other gets there too. On PostgreSQL the lock on the phone makes the second
wait for the first to commit, then find its contact; without it both create one. On SQLite
writers take turns anyway, so only the correct run applies.
"""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client

from goteo.api import contact_data
from goteo.models import Contact
from tests.api_calls import call, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def race(monkeypatch) -> list[int]:
    """Post the same new phone twice at the same moment; the answers' status codes."""
    cache.clear()
    token = token_for()
    both_inside = threading.Barrier(2, timeout=1.0)
    original = contact_data.find_contact

    def find_then_wait(phone):
        found = original(phone)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait()
        return found

    monkeypatch.setattr(contact_data, "find_contact", find_then_wait)
    codes: list[object] = []

    def post(name):
        try:
            codes.append(
                call(Client(), "post", "contacts/", token, {"phone": "3009787566", "name": name}).status_code
            )
        except Exception as exc:  # reported by the assertion below
            codes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(n,)) for n in ("Marta", "Marta Gómez")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert all(isinstance(c, int) for c in codes), codes
    return sorted(c for c in codes if isinstance(c, int))


def test_the_same_new_phone_at_once_makes_one_contact(monkeypatch):
    codes = race(monkeypatch)

    assert codes == [200, 201]
    assert Contact.objects.filter(phone="+573009787566").count() == 1


def test_it_catches_an_upsert_that_does_not_lock_the_phone(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite admits one writer at a time: there is no overlap to get wrong")
    monkeypatch.setattr(contact_data, "one_at_a_time", lambda phone: None)

    codes = race(monkeypatch)

    assert codes == [201, 201]
    assert Contact.objects.filter(phone="+573009787566").count() == 2
