"""``whatsapp_status``: whether each number can send, cached within Meta's request budget."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from goteo import health
from goteo.models import Campaign, Sender
from tests.fakes.cloud import TOKEN, FakeCloudAPI
from tests.fakes.records import cloud_sender
from tests.fakes.transport import running

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_environment")]


api = running(FakeCloudAPI)


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("whatsapp_status", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def number_checks(api) -> int:
    return len(api.requests_to("GET"))


def test_it_reports_a_connected_cloud_number_in_spanish(api):
    cloud_sender(base_url=api.url)

    code, out = run()

    assert code == 0
    assert "meta (Meta WhatsApp Cloud API): ✅ conectado — " in out
    assert "calidad alta" in out
    assert "límite 250 personas al día" in out
    assert (
        "principal (Prueba: no envía, los muestra en la pantalla del servidor): 🧪 modo de prueba — "
        "los mensajes solo se imprimen; no salen por WhatsApp" in out
    )
    assert "(cloud)" not in out and "(console)" not in out  # the provider in the shop's words
    assert TOKEN not in out


def test_it_prints_the_documented_json(api):
    cloud_sender(base_url=api.url)

    code, out = run("--json")

    data = json.loads(out)
    assert code == 0
    meta = next(s for s in data["senders"] if s["name"] == "meta")
    assert set(meta) == {"name", "backend", "connected", "unreachable", "simulation", "detail"}
    assert (meta["backend"], meta["connected"], meta["simulation"]) == ("cloud", True, False)
    default = next(s for s in data["senders"] if s["name"] == "principal")
    assert (default["backend"], default["simulation"]) == ("console", True)


def test_it_says_a_braked_number_cannot_send_now_though_it_is_connected(api):
    sender = cloud_sender(base_url=api.url)
    sender.brake("131048: demasiados reportes de spam", timezone.now() + timedelta(hours=5))

    code, out = run("--json")

    meta = next(s for s in json.loads(out)["senders"] if s["name"] == "meta")
    assert code == 1
    assert meta["connected"] is False
    assert "frenado hasta" in meta["detail"] and "131048" in meta["detail"]
    assert "meta (Meta WhatsApp Cloud API): ⏸ frenado, no envía ahora" in run()[1]


def test_it_exits_non_zero_when_a_number_cannot_send(api):
    api.number["status"] = "OFFLINE"
    cloud_sender(base_url=api.url)

    code, out = run("--json")

    meta = next(s for s in json.loads(out)["senders"] if s["name"] == "meta")
    assert code == 1
    assert meta["connected"] is False
    assert "OFFLINE" in meta["detail"]


def test_it_reports_a_misconfigured_number_without_crashing():
    Sender.objects.create(name="incompleto", backend="cloud", config={})

    code, out = run()

    assert code == 1
    assert "incompleto (Meta WhatsApp Cloud API): ✖ desconectado" in out
    assert "token" in out


def test_it_skips_inactive_numbers(api):
    api.number["status"] = "OFFLINE"
    sender = cloud_sender(base_url=api.url)
    Sender.objects.filter(pk=sender.pk).update(is_active=False)

    code, out = run()

    assert code == 0
    assert "meta" not in out


def test_it_reuses_a_recent_answer_so_polling_stays_within_metas_budget(api):
    cloud_sender(base_url=api.url)

    for _ in range(5):
        run()

    assert number_checks(api) == 1


def test_it_asks_again_when_told_to(api):
    cloud_sender(base_url=api.url)

    run()
    run("--fresh")

    assert number_checks(api) == 2


def test_it_asks_again_once_the_answer_is_old(api):
    sender = cloud_sender(base_url=api.url)
    now = timezone.now()

    health.sender_status(sender, now)
    health.sender_status(sender, now + timedelta(minutes=4))
    health.sender_status(sender, now + timedelta(minutes=6))

    assert number_checks(api) == 2


def test_it_asks_sooner_about_a_number_that_was_down(api):
    api.number["status"] = "OFFLINE"
    sender = cloud_sender(base_url=api.url)
    now = timezone.now()

    health.sender_status(sender, now)
    api.number["status"] = "CONNECTED"
    status = health.sender_status(sender, now + timedelta(seconds=90))

    assert status.connected is True
    assert number_checks(api) == 2


def test_it_forgets_the_answer_after_a_failed_send(api):
    sender = cloud_sender(base_url=api.url)
    now = timezone.now()

    health.sender_status(sender, now)
    health.forget(sender)
    health.sender_status(Sender.objects.get(pk=sender.pk), now)

    assert number_checks(api) == 2


def test_it_brakes_a_number_whose_quality_is_red_and_says_so(api, make_campaign):
    api.number["quality_rating"] = "RED"
    sender = cloud_sender(base_url=api.url)
    campaign = make_campaign(2, sender=sender)

    code, out = run()

    sender.refresh_from_db()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert code == 1
    assert sender.is_braked(timezone.now())
    assert campaign.status == "paused"
    assert "ROJO" in campaign.pause_reason
    assert "frenado hasta" in out


def test_it_brakes_a_blocked_number(api):
    api.number["health_status"] = {"can_send_message": "BLOCKED", "entities": []}
    sender = cloud_sender(base_url=api.url)

    status = health.sender_status(sender, timezone.now())

    sender.refresh_from_db()
    assert status.connected is False
    assert sender.is_braked(timezone.now())


def test_a_connected_gateway_says_connected_once():
    from tests.fakes.evolution import FakeEvolution
    from tests.fakes.records import evolution_sender

    with FakeEvolution() as gateway:
        evolution_sender(base_url=gateway.url)
        _code, out = run()

    assert "evolution (Evolution API): ✅ conectado\n" in out  # not "✅ conectado — conectado"


def test_an_unreachable_gateway_is_said_in_plain_words():
    from tests.fakes.records import evolution_sender
    from tests.fakes.server import refused_url

    evolution_sender(base_url=refused_url())
    code, out = run()

    assert code == 1
    assert "el servidor no aceptó la conexión" in out
    assert "ConnectError" not in out and "Errno" not in out
