"""The demo never touches a shop's data, never uses a real code, and survives a closed pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from goteo.models import Campaign, Contact, Message, Promotion, Sender, Tag
from tests.processes import goteo_env


def demo(*args):
    out = StringIO()
    call_command("demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def shop(db):
    """The optical shop's own contact (tagged ``demo`` by chance) and campaign on NAVIDAD2026."""
    sender = Sender.objects.create(name="tienda", backend="memory")
    own = Contact.objects.create(full_name="Cliente Real", phone="+573001112233", consent=True)
    own.tags.add(Tag.objects.create(name="demo"))
    promotion = Promotion.objects.create(
        code="NAVIDAD2026", name="Navidad", benefit="20% en lentes", valid_until=date(2026, 12, 31)
    )
    Campaign.objects.create(name="Navidad real", promotion=promotion, sender=sender, template="Hola {name}")
    return own


@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_database_with_the_shops_data_and_touches_nothing(shop, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(CommandError) as error:
        demo("--simulate-days", "5")
    text = str(error.value)
    assert "ya tiene datos de su negocio (1 contacto, 1 campaña)" in text
    assert "no se creó nada" in text
    assert "GOTEO_DATA_DIR=" in text and "goteo demo --simulate-days 5" in text
    assert list(Contact.objects.values_list("full_name", flat=True)) == ["Cliente Real"]
    assert Promotion.objects.get().valid_until == date(2026, 12, 31)
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Navidad real"]
    assert not Sender.objects.filter(name="demo").exists()


@pytest.mark.django_db(transaction=True)
def test_with_a_database_url_it_says_to_use_another_place(shop, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://tienda@localhost/goteo")
    with pytest.raises(CommandError, match="La base de datos de DATABASE_URL ya tiene datos de su negocio"):
        demo()


@pytest.mark.django_db(transaction=True)
def test_a_real_number_named_demo_is_never_used(monkeypatch):
    Sender.objects.create(name="demo", backend="cloud")
    with pytest.raises(CommandError, match="1 número de WhatsApp llamado «demo»"):
        demo()


@pytest.mark.django_db(transaction=True)
def test_in_an_empty_database_it_uses_its_own_code_and_can_run_again():
    demo()
    out = demo()  # a second run replaces the first demo
    campaign = Campaign.objects.get()
    assert campaign.status == "active" and campaign.pending_count == 100
    assert campaign.promotion.code == "DEMO-NAVIDAD"
    assert list(Promotion.objects.values_list("code", flat=True)) == ["DEMO-NAVIDAD"]
    assert Contact.objects.count() == 100
    assert f"campaña #{campaign.pk} 'Navidad 2026'" in out
    assert "DEMO-NAVIDAD" in Message.objects.first().rendered_text


@pytest.mark.django_db(transaction=True)
def test_json_without_simulation_is_one_json_line():
    line = demo("--json").strip()
    summary = json.loads(line)
    assert (summary["total"], summary["pending"]) == (100, 100)


@pytest.mark.django_db(transaction=True)
def test_process_campaigns_sends_the_demo_campaign(monkeypatch):
    demo()
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    Campaign.objects.update(
        window_start="00:00",
        window_end="23:59:59",
        send_days="mon,tue,wed,thu,fri,sat,sun",
        skip_holidays=False,
        daily_limit=2,
        delay_seconds=0,
    )
    call_command("process_campaigns", stdout=StringIO(), stderr=StringIO())
    # The console prints instead of sending; either way the demo's messages left the queue.
    assert Campaign.objects.get().pending_count == 98


def run_with_closed_pipe(args, env):
    """Run goteo with its output piped to a reader that has already gone away."""
    process = subprocess.Popen(
        [sys.executable, "-m", "goteo.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # the reader leaves before the first line, as ``| head -0`` would
    _out, err = process.communicate(timeout=120)
    return process.returncode, err.decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_closed_pipe_ends_quietly_with_the_simulation_finished(tmp_path):
    code, err = run_with_closed_pipe(["demo", "--simulate-days", "5", "--json"], goteo_env(tmp_path))
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.simulated_count, campaign.pending_count) == ("completed", 100, 0)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_closed_pipe_leaves_the_unsimulated_demo_ready_to_send(tmp_path):
    code, err = run_with_closed_pipe(["demo", "--json"], goteo_env(tmp_path))
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    campaign = Campaign.objects.get()
    assert (campaign.status, campaign.pending_count) == ("active", 100)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_head_reads_the_first_lines_while_the_demo_finishes(tmp_path):
    """``goteo demo --simulate-days 5 --json | head -3``, with a real shell pipe."""
    env = goteo_env(tmp_path)
    shell = (
        f"{sys.executable} -m goteo.cli demo --simulate-days 5 --json | head -3; echo ${{PIPESTATUS[0]}} >&2"
    )
    done = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert [json.loads(line)["date"] for line in lines] == ["2026-01-02", "2026-01-05", "2026-01-06"]
    assert done.stderr.strip().splitlines()[-1] == "0", done.stderr
    assert "Traceback" not in done.stderr
    assert Campaign.objects.get().status == "completed"
