"""Connection events as Evolution API and WAHA really send them, and what goteo does with each.

A logout or ban code brakes the number; any other change only records whether the session
is up, and the next send asks the gateway again. Each fixture is shaped after the
provider's own source, named in its comment; names and numbers are changed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from goteo import health
from goteo.models import Sender
from goteo.receipts import handle_events
from goteo.webhooks import gateway_events
from goteo.webhooks.events import AccountAlert
from tests.fakes.evolution import INSTANCE
from tests.fakes.records import evolution_sender, waha_sender
from tests.fakes.waha import SESSION

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # a Tuesday afternoon; nothing was sent


def evolution_connection(state: str, status_reason: int, **extra: object) -> dict:
    # EvolutionAPI/evolution-api v2.3.6, src/api/integrations/channel/whatsapp/
    # whatsapp.baileys.service.ts connectionUpdate(): it posts CONNECTION_UPDATE
    # ("connection.update") with {instance, state, statusReason} (statusReason is Baileys'
    # DisconnectReason, 200 when there is none); webhook.controller.ts wraps it in
    # {event, instance, data, destination, date_time, sender, server_url, apikey}.
    return {
        "event": "connection.update",
        "instance": INSTANCE,
        "data": {"instance": INSTANCE, "state": state, "statusReason": status_reason, **extra},
        "destination": "https://promos.example.co/webhooks/evolution/",
        "date_time": "2026-03-03T10:00:00.000Z",
        "sender": "573009990000@s.whatsapp.net",
        "server_url": "http://evolution:8080",
        "apikey": "instance-key-for-tests",
    }


# The phone unlinked the device (or WhatsApp logged it out): Baileys' loggedOut, 401, one of
# the codes after which Evolution stops reconnecting (codesToNotReconnect: 401, 403, 402, 406)
# and only then posts the close.
EVOLUTION_LOGGED_OUT = evolution_connection("close", 401)
# The QR code limit was reached without anyone scanning: Evolution posts state "refused" with
# statusReason DisconnectReason.connectionClosed (428), plus the number's wuid and profile.
EVOLUTION_QR_REFUSED = evolution_connection(
    "refused", 428, wuid="573009990000@s.whatsapp.net", profileName="Óptica", profilePictureUrl=None
)
# Back up: state "open" with statusReason 200, the wuid and the profile.
EVOLUTION_OPEN = evolution_connection(
    "open", 200, wuid="573009990000@s.whatsapp.net", profileName="Óptica", profilePictureUrl=None
)


def waha_status(status: str) -> dict:
    # devlikeapro/waha, src/structures/webhooks.dto.ts: WAHAWebhookSessionStatus is the common
    # envelope {id, timestamp, session, metadata, engine, me, environment, event, payload} with
    # payload WASessionStatusBody {name, status}; the statuses are enums.dto.ts'
    # WAHASessionStatus (STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED).
    return {
        "id": "evt_01aaaaaaaaaaaaaaaaaaaaaaaa",
        "timestamp": 1772550000000,
        "session": SESSION,
        "metadata": {},
        "engine": "NOWEB",
        "me": {"id": "573009990000@c.us", "pushName": "Óptica"},
        "environment": {"version": "2026.1.3", "engine": "NOWEB", "tier": "CORE", "browser": None},
        "event": "session.status",
        "payload": {"name": SESSION, "status": status},
    }


def test_evolution_logged_out_is_a_ban_sign_and_a_qr_refusal_is_not():
    [logged_out] = gateway_events.parse_evolution(EVOLUTION_LOGGED_OUT)
    [refused] = gateway_events.parse_evolution(EVOLUTION_QR_REFUSED)
    [opened] = gateway_events.parse_evolution(EVOLUTION_OPEN)

    assert isinstance(logged_out, AccountAlert)
    assert (logged_out.connected, logged_out.brake) == (False, True)
    assert "401" in logged_out.reason
    assert (refused.connected, refused.brake) == (False, False)
    assert "428" in refused.reason
    assert (opened.connected, opened.brake) == (True, False)


@pytest.mark.django_db
def test_an_evolution_logout_brakes_the_number():
    sender = evolution_sender()

    outcome = handle_events(gateway_events.parse_evolution(EVOLUTION_LOGGED_OUT), "evolution", NOW)

    sender = Sender.objects.get(pk=sender.pk)
    assert outcome.braked == [sender.name]
    assert sender.is_braked(NOW)
    assert "401" in sender.pause_reason


@pytest.mark.django_db
def test_an_evolution_qr_refusal_only_marks_the_connection_down():
    sender = evolution_sender()

    outcome = handle_events(gateway_events.parse_evolution(EVOLUTION_QR_REFUSED), "evolution", NOW)

    sender = Sender.objects.get(pk=sender.pk)
    assert outcome.braked == []
    assert not sender.is_braked(NOW)
    status = health.cached_status(sender, NOW)
    assert status is not None and not status.connected


@pytest.mark.parametrize(
    ("status", "connected"),
    [("WORKING", True), ("FAILED", False), ("SCAN_QR_CODE", False), ("STOPPED", False)],
)
def test_waha_session_status_says_whether_the_session_is_up_and_never_brakes(status, connected):
    [alert] = gateway_events.parse_waha(waha_status(status))

    assert isinstance(alert, AccountAlert)
    assert (alert.connected, alert.brake) == (connected, False)
    assert alert.account == {"session": SESSION}


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["FAILED", "SCAN_QR_CODE", "STOPPED"])
def test_a_waha_session_down_only_marks_the_connection_down(status):
    sender = waha_sender()

    outcome = handle_events(gateway_events.parse_waha(waha_status(status)), "waha", NOW)

    sender = Sender.objects.get(pk=sender.pk)
    assert outcome.braked == []
    assert not sender.is_braked(NOW)
    cached = health.cached_status(sender, NOW)
    assert cached is not None and not cached.connected
    assert status in cached.detail


def test_waha_starting_is_no_event():
    assert gateway_events.parse_waha(waha_status("STARTING")) == []
