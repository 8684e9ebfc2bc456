"""A number is braked only on a positive sign from its provider, never for being unreachable."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from goteo import health
from goteo.models import Campaign, CampaignStatus, Message, MessageStatus
from goteo.sending import Engine
from goteo.transports.cloud import CloudTransport
from tests.fakes.cloud import FakeCloudAPI
from tests.fakes.evolution import FakeEvolution
from tests.fakes.records import cloud_sender, evolution_sender, waha_sender
from tests.fakes.server import DROP, HANG, refused_url
from tests.fakes.waha import FakeWaha

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gateway():
    with FakeEvolution() as server:
        yield server


def sent(campaign: Campaign) -> int:
    return Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()


def run(clock, lines: list[str] | None = None):
    return Engine(clock, max_wait=0, report=(lines.append if lines is not None else None)).run()


# --- unreachable is "cannot tell now", not a ban ---------------------------------------------------
def test_an_unreachable_gateway_minutes_after_a_send_neither_sends_nor_brakes_and_sending_resumes(
    gateway, make_campaign, clock
):
    sender = evolution_sender(base_url=gateway.url)
    campaign = make_campaign(6, sender=sender)
    run(clock)
    assert sent(campaign) == 1
    port = gateway.httpd.server_address[1]
    gateway.stop()  # the gateway's machine is off: connection refused

    clock.advance(minutes=6)  # past the remembered good answer, well within minutes of the send
    lines: list[str] = []
    run(clock, lines)

    sender.refresh_from_db()
    assert sent(campaign) == 1
    assert not sender.is_braked(clock.now())
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ACTIVE
    assert any("no se puede verificar ahora" in line for line in lines), lines

    back = FakeEvolution()
    back.port = port
    with back:
        clock.advance(minutes=2)
        run(clock)
    assert sent(campaign) == 2
    assert len(back.sent) == 1


def test_whatsapp_status_fresh_on_an_unreachable_gateway_says_so_and_brakes_nothing(make_campaign, clock):
    sender = evolution_sender(base_url=refused_url())
    campaign = make_campaign(3, sender=sender)
    first = campaign.messages.first()
    Message.objects.filter(pk=first.pk).update(status="sent", sent_at=timezone.now() - timedelta(minutes=3))

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("whatsapp_status", "--fresh", stdout=out)

    sender.refresh_from_db()
    assert not sender.is_braked(timezone.now())
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ACTIVE
    assert (
        "evolution (Evolution API): ❔ sin respuesta del proveedor — no se puede verificar ahora"
        in out.getvalue()
    )
    assert "bloqueado" not in out.getvalue()


def test_a_meta_health_check_that_times_out_is_unreachable():
    with FakeCloudAPI() as api:
        api.hang_seconds = 1.0
        api.fail_next(HANG)

        status = CloudTransport(api.config(read_timeout=0.2)).check_connection()

    assert status.unreachable and not status.connected
    assert "extra" not in status.detail and "brake" not in status.extra


def test_a_meta_health_check_cut_off_brakes_nothing(make_campaign, clock):
    with FakeCloudAPI() as api:
        sender = cloud_sender(base_url=api.url)
        api.fail_next(DROP)

        status = health.sender_status(sender, clock.now(), use_cache=False)

    sender.refresh_from_db()
    assert status.unreachable and not status.connected
    assert not sender.is_braked(clock.now())


# --- a session that closes without a reason is "disconnected", even right after a send ------------
def close_session(server) -> None:
    """The gateway's session goes down with no reason given (a restart, a network cut)."""
    if isinstance(server, FakeEvolution):
        server.state = "close"  # sendText then answers 500 "Connection Closed"
    else:
        server.status = "STOPPED"  # every session call then answers 422


def open_session(server) -> None:
    if isinstance(server, FakeEvolution):
        server.state = "open"
    else:
        server.status = "WORKING"


def close_after_first_send(server) -> None:
    """The session drops the moment the first message is accepted."""
    accept = server.send_text

    def accept_then_close(request):
        answer = accept(request)
        close_session(server)
        return answer

    server.send_text = accept_then_close


@pytest.mark.parametrize("backend", ["evolution", "waha"])
def test_a_session_that_closes_right_after_a_send_stops_sending_brakes_nothing_and_resumes(
    make_campaign, clock, backend
):
    with FakeEvolution() if backend == "evolution" else FakeWaha() as server:
        make_sender = evolution_sender if backend == "evolution" else waha_sender
        sender = make_sender(base_url=server.url)
        sender.config["typing"] = False
        sender.save(update_fields=["config"])
        campaign = make_campaign(6, sender=sender)
        close_after_first_send(server)

        lines: list[str] = []
        # Long enough for a second send in the same run, seconds after the first.
        summary = Engine(clock, max_wait=3600, report=lines.append).run()

        sender.refresh_from_db()
        assert sent(campaign) == 1
        assert summary.disconnected and not summary.braked
        assert not sender.is_braked(clock.now())
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ACTIVE
        assert any("WhatsApp se desconectó" in line for line in lines), lines

        del server.send_text  # the session stays up from now on
        open_session(server)
        clock.advance(minutes=2)
        run(clock)
        assert sent(campaign) == 2
        assert len(server.sent) == 2


def test_a_session_that_closes_right_after_a_send_with_a_logout_code_brakes(gateway, make_campaign, clock):
    sender = evolution_sender(base_url=gateway.url)
    campaign = make_campaign(6, sender=sender)
    run(clock)
    gateway.state = "close"
    gateway.disconnection_code = 401  # Evolution keeps the logout reason on the instance
    gateway.disconnection_at = clock.now().isoformat()

    clock.advance(minutes=2)
    run(clock)
    clock.advance(minutes=2)
    run(clock)

    sender.refresh_from_db()
    assert sent(campaign) == 1
    assert sender.is_braked(clock.now())
    assert "cerró la sesión" in sender.pause_reason
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED


# --- a session closed with a logout or ban reason is a sign ----------------------------------------
def test_a_session_closed_without_a_reason_right_after_sending_is_not_a_brake(gateway, make_campaign, clock):
    sender = evolution_sender(base_url=gateway.url)
    campaign = make_campaign(3, sender=sender)
    Message.objects.filter(pk=campaign.messages.first().pk).update(
        status="sent", sent_at=clock.now() - timedelta(minutes=5)
    )
    gateway.state = "close"  # a restart or a network cut: Evolution reconnects by itself

    status = health.sender_status(sender, clock.now(), use_cache=False)

    sender.refresh_from_db()
    assert status.connected is False and not status.unreachable
    assert not sender.is_braked(clock.now())


@pytest.mark.parametrize(("code", "words"), [(401, "cerró la sesión"), (403, "posible bloqueo")])
def test_a_session_closed_with_a_logout_or_ban_reason_brakes_the_number(
    gateway, make_campaign, clock, code, words
):
    sender = evolution_sender(base_url=gateway.url)
    campaign = make_campaign(3, sender=sender)
    gateway.state = "close"
    gateway.disconnection_code = code
    gateway.disconnection_at = (clock.now() - timedelta(minutes=1)).isoformat()

    health.sender_status(sender, clock.now(), use_cache=False)

    sender.refresh_from_db()
    assert sender.is_braked(clock.now())
    assert words in sender.pause_reason
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED
    assert gateway.requests_to("GET", "/instance/fetchInstances")[0].query == {"instanceName": ["optica"]}


@pytest.mark.parametrize("case", ["older than a day", "seen connected since", "still reconnecting"])
def test_an_old_reason_evolution_still_keeps_is_not_a_brake(gateway, make_campaign, clock, case):
    sender = evolution_sender(base_url=gateway.url)
    make_campaign(3, sender=sender)
    gateway.disconnection_code = 401  # kept on the instance since an earlier logout
    gateway.disconnection_at = (clock.now() - timedelta(hours=2)).isoformat()
    if case == "older than a day":
        gateway.disconnection_at = (clock.now() - timedelta(days=3)).isoformat()
    elif case == "seen connected since":
        health.sender_status(sender, clock.now() - timedelta(minutes=30), use_cache=False)  # open
    gateway.state = "connecting" if case == "still reconnecting" else "close"

    health.sender_status(sender, clock.now(), use_cache=False)

    sender.refresh_from_db()
    assert not sender.is_braked(clock.now())


def test_a_lifted_brake_is_not_set_again_for_the_same_closed_session(gateway, make_campaign, clock):
    sender = evolution_sender(base_url=gateway.url)
    make_campaign(3, sender=sender)
    gateway.state = "close"
    gateway.disconnection_code = 401
    gateway.disconnection_at = (clock.now() - timedelta(minutes=1)).isoformat()
    health.sender_status(sender, clock.now(), use_cache=False)
    sender.refresh_from_db()
    assert sender.lift_brake("ana", now=clock.now())

    clock.advance(minutes=5)
    health.sender_status(sender, clock.now(), use_cache=False)
    sender.refresh_from_db()
    assert not sender.is_braked(clock.now())

    gateway.disconnection_at = clock.now().isoformat()  # linked again, then logged out again
    clock.advance(minutes=1)
    health.sender_status(sender, clock.now(), use_cache=False)
    sender.refresh_from_db()
    assert sender.is_braked(clock.now())


def test_a_lifted_red_quality_brake_is_not_set_again_until_quality_recovers_and_falls(make_campaign, clock):
    with FakeCloudAPI() as api:
        sender = cloud_sender(base_url=api.url)
        api.number["quality_rating"] = "RED"
        health.sender_status(sender, clock.now(), use_cache=False)
        sender.refresh_from_db()
        assert sender.is_braked(clock.now())
        assert sender.lift_brake("ana", now=clock.now())

        for _ in range(2):
            clock.advance(minutes=10)
            status = health.sender_status(sender, clock.now(), use_cache=False)
            sender.refresh_from_db()
            assert not sender.is_braked(clock.now())
            assert not status.connected  # still red: nothing is sent, but the person's lift stands

        api.number["quality_rating"] = "GREEN"
        clock.advance(minutes=10)
        health.sender_status(sender, clock.now(), use_cache=False)
        api.number["quality_rating"] = "RED"
        clock.advance(minutes=10)
        health.sender_status(sender, clock.now(), use_cache=False)
        sender.refresh_from_db()
        assert sender.is_braked(clock.now())
