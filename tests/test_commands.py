"""The campaign commands, as a person runs them."""

import json
from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from goteo.models import Campaign, Sender
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from tests.commands import call, create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_legal_hours")]
ALWAYS = {
    "window_start": time(0),
    "window_end": time.max,
    "send_days": "mon,tue,wed,thu,fri,sat,sun",
    "skip_holidays": False,
}


@pytest.fixture
def env_memory(monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "memory")


def always_open(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(**ALWAYS)


def test_it_creates_a_draft_with_every_flag(patients, env_memory):
    campaign, _ = create(
        "--daily-limit",
        "25",
        "--delay",
        "5",
        "--window",
        "08:30-17:00",
        "--days",
        "lun,mar,mie",
        "--no-holidays",
        "--audience",
        "all",
    )
    assert campaign.status == "draft"
    assert (campaign.daily_limit, campaign.delay_seconds) == (25, 5)
    assert (campaign.window_start, campaign.window_end) == (time(8, 30), time(17))
    assert campaign.send_days == "mon,tue,wed" and not campaign.skip_holidays
    assert campaign.promotion.valid_until == date(2099, 12, 31)
    assert campaign.sender == Sender.get_default()


def test_it_reads_the_template_from_a_file(patients, tmp_path):
    path = tmp_path / "plantilla.txt"
    path.write_text("🎄 ¡Hola {name}!", encoding="utf-8")
    out, _ = call(
        "create_campaign",
        "--name",
        "x",
        "--template-file",
        str(path),
        "--promotion-code",
        "P",
        "--benefit",
        "b",
        "--valid-until",
        "2099-01-01",
    )
    assert Campaign.objects.get(pk=int(out)).template == "🎄 ¡Hola {name}!"


def test_it_refuses_an_unsafe_template_naming_the_valid_ones(patients):
    with pytest.raises(CommandError, match=r"plantilla: Marcador no permitido '?\{0\}'?.*\{nombre\}"):
        call(
            "create_campaign",
            "--name",
            "x",
            "--template",
            "Hola {0}",
            "--promotion-code",
            "P",
            "--benefit",
            "b",
            "--valid-until",
            "2099-01-01",
        )
    assert not Campaign.objects.exists()


def test_it_warns_above_thirty_a_day(patients):
    _, err = create("--daily-limit", "40")
    assert "no se recomienda" in err


def create_expiring_tomorrow(*extra):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    out, err = call(
        "create_campaign",
        "--name",
        "Relámpago",
        "--template",
        "Hola {name}",
        "--promotion-code",
        "RELAMPAGO",
        "--benefit",
        "2x1",
        "--valid-until",
        tomorrow,
        "--daily-limit",
        "1",
        *extra,
    )
    return Campaign.objects.get(pk=int(out.strip())), err


def test_it_warns_at_creation_when_the_promotion_expires_first(patients):
    campaign, err = create_expiring_tomorrow()
    assert campaign.status == "draft"
    assert "después del vencimiento de la promoción" in err
    _, fine = create("--daily-limit", "20")
    assert "vencimiento" not in fine


def test_start_campaign_warns_about_the_expiry_before_asking(patients, env_memory, monkeypatch):
    campaign, _ = create_expiring_tomorrow()
    shown = []
    monkeypatch.setattr("builtins.input", lambda prompt: shown.append(prompt) or "n")
    out, _ = call("start_campaign", str(campaign.pk))
    assert shown, "it asked"
    assert "Terminaría:" in out and "después del vencimiento de la promoción" in out
    assert out.index("vencimiento") < out.index("sigue en borrador")


def test_it_stores_the_approved_provider_template(patients):
    campaign, _ = create("--provider-template", "promo_monturas:es:name,code")
    assert campaign.provider_template == {
        "name": "promo_monturas",
        "language": "es",
        "params": ["name", "code"],
    }
    with pytest.raises(CommandError, match=r"--provider-template: Parámetro desconocido.*precio"):
        create("--provider-template", "promo:es:precio")


def test_it_refuses_bad_days_and_windows(patients):
    with pytest.raises(CommandError, match="--days"):
        create("--days", "lunes,funday")
    with pytest.raises(CommandError, match="--window"):
        create("--window", "9-7")


def test_it_starts_with_start(patients, env_memory):
    campaign, err = create("--start")
    campaign.refresh_from_db()
    assert campaign.status == "active" and campaign.total_count == 5
    assert "Iniciada: 5 por enviar" in err


def test_start_campaign_shows_people_and_whatsapp_then_launches(patients, env_memory):
    campaign, _ = create()
    out, _ = call("start_campaign", str(campaign.pk), "--yes")
    assert "Contactos en la audiencia: 5" in out
    assert "Pueden recibirla: 5" in out
    assert out.count("  · Paciente") == 5
    assert "WhatsApp (principal): ✅ conectado" in out
    assert "Mensajes creados: 5 (5 por enviar)" in out
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_start_campaign_asks_before_launching(patients, env_memory, monkeypatch):
    campaign, _ = create()
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    out, _ = call("start_campaign", str(campaign.pk))
    assert "sigue en borrador" in out
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_process_campaigns_sends_and_reports_json(patients, env_memory):
    campaign, _ = create("--delay", "0", "--start")
    always_open(campaign)
    out, _ = call("process_campaigns", "--json")
    summary = json.loads(out)
    assert summary["sent"] == 5 and summary["ok"] is True
    assert len(MemoryTransport.outbox) == 5


def test_process_campaigns_dry_run_sends_nothing(patients, env_memory):
    campaign, _ = create("--delay", "0", "--start", "--daily-limit", "3")
    always_open(campaign)
    out, _ = call("process_campaigns", "--dry-run", "--json")
    data = json.loads(out)
    assert [len(c["recipients"]) for c in data["campaigns"]] == [3]
    assert "****" in data["campaigns"][0]["recipients"][0]["phone"]
    assert MemoryTransport.outbox == []
    campaign.refresh_from_db()
    assert campaign.pending_count == 5


def test_process_campaigns_exits_non_zero_when_disconnected(patients, env_memory):
    campaign, _ = create("--delay", "0", "--start")
    always_open(campaign)
    MemoryTransport.connected = False
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("process_campaigns", stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 2
    assert "desconectado" in err.getvalue()
    campaign.refresh_from_db()
    assert campaign.pending_count == 5


def test_campaign_status_prints_the_card_and_json(patients, env_memory):
    campaign, _ = create("--start")
    out, _ = call("campaign_status", str(campaign.pk))
    assert "Total: 5 clientes" in out
    assert "⏳ Pendientes: 5 (100%)" in out
    assert "Estado: En progreso" in out
    out, _ = call("campaign_status", str(campaign.pk), "--json")
    data = json.loads(out)
    assert set(data) >= {
        "id",
        "name",
        "status",
        "total",
        "sent",
        "pending",
        "failed",
        "skipped",
        "unknown",
        "next_send_at",
        "estimated_completion",
    }
    assert (data["total"], data["pending"], data["status"]) == (5, 5, "active")


def test_campaign_status_json_gives_the_results_funnel(patients, env_memory):
    campaign, _ = create("--start")
    Campaign.objects.filter(pk=campaign.pk).update(
        sent_count=5,
        pending_count=0,
        delivered_count=4,
        read_count=3,
        replied_count=2,
        redeemed_count=1,
        opted_out_count=1,
    )

    data = json.loads(call("campaign_status", str(campaign.pk), "--json")[0])
    every = json.loads(call("campaign_status", "--json")[0])

    funnel = {k: data[k] for k in ("sent", "delivered", "read", "replied", "redeemed", "opted_out")}
    assert funnel == {"sent": 5, "delivered": 4, "read": 3, "replied": 2, "redeemed": 1, "opted_out": 1}
    assert {k: every[0][k] for k in funnel} == funnel
    assert (
        "📈 Entregados: 4 (80 %) · Leídos: 3 (60 %) · Respondieron: 2 (40 %) · Canjearon: 1 (20 %) · "
        "Pidieron la baja: 1 (20 %)" in call("campaign_status", str(campaign.pk))[0]
    )


def test_campaign_status_json_counts_no_results_before_anything_is_sent(patients, env_memory):
    campaign, _ = create("--start")

    data = json.loads(call("campaign_status", str(campaign.pk), "--json")[0])

    assert [data[k] for k in ("delivered", "read", "replied", "redeemed", "opted_out")] == [0, 0, 0, 0, 0]
    assert "📈" not in call("campaign_status", str(campaign.pk))[0]  # nothing sent: no results line


def test_pause_resume_cancel_and_requeue(patients, env_memory):
    campaign, _ = create("--start")
    assert "pausada" in call("pause_campaign", str(campaign.pk))[0]
    with pytest.raises(CommandError, match="no está en progreso"):
        call("pause_campaign", str(campaign.pk))
    assert "reanudada" in call("resume_campaign", str(campaign.pk))[0]
    assert "0 mensajes fallidos" in call("requeue_failed", str(campaign.pk))[0]
    assert "5 mensajes pendientes omitidos" in call("cancel_campaign", str(campaign.pk), "--yes")[0]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.skipped_count, campaign.pending_count) == ("cancelled", 5, 0)


def test_requeue_failed_refuses_a_cancelled_campaign(patients, env_memory):
    campaign, _ = create("--delay", "0", "--start", "--daily-limit", "3")
    always_open(campaign)

    def reject(message):
        raise SendError(SendError.PERMANENT, "rechazado")

    MemoryTransport.script = reject
    call("process_campaigns")
    call("cancel_campaign", str(campaign.pk), "--yes")
    with pytest.raises(CommandError, match="está cancelada"):
        call("requeue_failed", str(campaign.pk))
    campaign.refresh_from_db()
    assert (campaign.failed_count, campaign.skipped_count, campaign.pending_count) == (3, 2, 0)
    assert campaign.requeue_failed(timezone.now()) == 0


def test_an_unknown_campaign_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No existe la campaña 999"):
        call("campaign_status", "999")


def test_the_demo_simulates_the_seed_week():
    out, _ = call("demo", "--simulate-days", "5", "--json")
    days = [json.loads(line) for line in out.splitlines()]
    assert [d["date"] for d in days] == ["2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]
    assert [d["pending"] for d in days] == [80, 60, 40, 20, 0]
    assert [d["sent_today"] for d in days] == [20] * 5
    assert days[-1]["sent"] == 100 and days[-1]["failed"] == 0


def test_the_demo_prints_the_table():
    out, _ = call("demo", "--simulate-days", "5")
    assert "Sábado 3 Enero 2026" in out
    assert "🎉 CAMPAÑA COMPLETADA en 5 días de envío: 100 simulados." in out
    assert "🧪 Simulación: nada sale por WhatsApp" in out and "SIMULADOS" in out and "ENVIADOS" not in out
