"""Test mode as a person meets it in the commands: refused without asking, said everywhere."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from goteo.models import Campaign, Message, MessageStatus
from tests import commands
from tests.commands import call
from tests.test_commands import always_open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def console(monkeypatch, no_legal_hours):
    """The README's real-use steps without connecting WhatsApp: the default, printing number;
    always-open windows at any hour."""
    for name in ("WHATSAPP_BACKEND", "WHATSAPP_FILE_PATH", "GOTEO_HEALTH_CACHE_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def create(*extra):
    """The Navidad campaign, sending without a pause between messages."""
    return commands.create("--delay", "0", *extra)


def test_start_campaign_refuses_a_real_start_on_a_number_in_test_mode(patients):
    campaign, _ = create()
    out = StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("start_campaign", str(campaign.pk), "--yes", stdout=out)

    message = str(refused.value)
    assert "«principal» está en modo de prueba" in message and "no salen por WhatsApp" in message
    assert "«Conectar WhatsApp»" in message and "--simulate" in message and "sigue en borrador" in message
    assert "WhatsApp (principal): 🧪 modo de prueba" in out.getvalue()
    assert "✅ conectado" not in out.getvalue()
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.total_count == 0


def test_start_campaign_simulates_when_asked_in_so_many_words(patients):
    campaign, _ = create()

    out, _ = call("start_campaign", str(campaign.pk), "--yes", "--simulate")

    campaign.refresh_from_db()
    assert campaign.status == "active" and campaign.simulation is True
    assert "🧪 Simulación: los mensajes se imprimen y quedan como simulados; nadie los recibe." in out


def test_create_campaign_start_needs_simulate_on_a_number_in_test_mode(patients):
    with pytest.raises(CommandError, match="modo de prueba") as refused:
        create("--start")
    assert "--simulate" in str(refused.value) and "No se creó la campaña" in str(refused.value)
    assert not Campaign.objects.exists()  # a refused command leaves no draft to pile up

    campaign, err = create("--start", "--simulate")

    assert campaign.status == "active" and campaign.simulation is True
    assert "Iniciada: 5 por enviar" in err


def test_create_campaign_simulate_goes_with_start(patients):
    with pytest.raises(CommandError, match="--simulate va junto con --start"):
        create("--simulate")
    assert not Campaign.objects.exists()


def test_process_campaigns_says_the_messages_were_simulated(patients, capsys):
    campaign, _ = create("--start", "--simulate")
    always_open(campaign)

    out, _ = call("process_campaigns")

    assert "Listo: 0 enviados" in out
    assert out.count("simulado (modo de prueba: no salió por WhatsApp)") == 5
    assert "🧪 5 simulados: modo de prueba: los mensajes no salen por WhatsApp; nadie los recibió." in out
    assert "✅" not in out
    assert f"{campaign.name}:" not in out  # it simulated this run: no "why nothing was sent" line
    assert capsys.readouterr().out.count("--- WhatsApp a") == 5  # the console printed them
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SIMULATED}


def test_process_campaigns_json_counts_simulated_apart(patients, capsys):
    campaign, _ = create("--start", "--simulate")
    always_open(campaign)

    out, _ = call("process_campaigns", "--json")

    summary = json.loads(out)
    assert (summary["sent"], summary["simulated"], summary["ok"]) == (0, 5, True)


def test_campaign_status_shows_simulated_apart(patients, capsys):
    campaign, _ = create("--start", "--simulate")
    always_open(campaign)
    call("process_campaigns")

    text, _ = call("campaign_status", str(campaign.pk))
    data = json.loads(call("campaign_status", str(campaign.pk), "--json")[0])

    assert (data["sent"], data["simulated"], data["simulation"]) == (0, 5, True)
    assert "🧪 Simulación (modo de prueba): los mensajes no salen por WhatsApp" in text
    assert "✅ Enviados: 0 de 5 (0%)" in text
    assert "🧪 Simulados (nadie los recibió): 5 de 5 (100%)" in text


def test_the_file_transport_says_delivered_to_the_file(patients, monkeypatch, tmp_path):
    outbox = tmp_path / "salida.jsonl"
    monkeypatch.setenv("WHATSAPP_BACKEND", "file")
    monkeypatch.setenv("WHATSAPP_FILE_PATH", str(outbox))
    campaign, _ = create("--start")  # handing messages to another program is a real delivery
    always_open(campaign)

    out, _ = call("process_campaigns")

    assert out.count(f"entregado al archivo {outbox}") == 5
    assert "enviado" not in out.replace("enviados", "") and "por WhatsApp" not in out
    assert len(outbox.read_text(encoding="utf-8").splitlines()) == 5
    campaign.refresh_from_db()
    assert (campaign.sent_count, campaign.simulated_count) == (5, 0)


def test_the_demo_says_it_is_a_simulation(db):
    out, _ = call("demo", "--patients", "3")

    campaign = Campaign.objects.get(name="Navidad 2026")
    assert campaign.simulation is True
    assert "🧪 Es una simulación" in out and "nada sale por WhatsApp" in out


def test_the_demo_json_marks_each_day_simulated(db):
    out, _ = call("demo", "--simulate-days", "1", "--json")

    day = json.loads(out.splitlines()[0])
    assert (day["sent"], day["simulated"]) == (20, True)
    assert Message.objects.filter(status=MessageStatus.SIMULATED).count() == 20
    assert not Message.objects.filter(status=MessageStatus.SENT).exists()
