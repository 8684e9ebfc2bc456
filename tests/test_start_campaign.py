"""``goteo start_campaign``: its preview matches what the caps let out, and it refuses early."""

from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from goteo.models import Campaign, Contact, DailyCounter, Promotion, Sender

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_legal_hours")]


@pytest.fixture
def number(db):
    return Sender.objects.create(name="principal", backend="memory", daily_cap=20)


def draft(number, people=30, daily_limit=20, valid_until=date(2099, 12, 31)):
    Contact.objects.bulk_create(
        Contact(full_name=f"Paciente {i}", phone=f"+57300100{i:04d}", consent=True) for i in range(people)
    )
    promotion = Promotion.objects.create(
        code="NAVIDAD", name="Navidad", benefit="30%", valid_until=valid_until
    )
    return Campaign.objects.create(
        name="Navidad 2026",
        promotion=promotion,
        sender=number,
        template="Hola {name}",
        daily_limit=daily_limit,
        window_start=time(0),
        window_end=time.max,
        send_days="mon,tue,wed,thu,fri,sat,sun",
        skip_holidays=False,
    )


def start(campaign, *args):
    out = StringIO()
    call_command("start_campaign", str(campaign.pk), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_its_preview_counts_what_the_number_already_sent_today(number, monkeypatch):
    campaign = draft(number)
    today = number.local_day(timezone.now())
    DailyCounter.objects.create(scope=number.counter_scope, day=today, used=17)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    out = start(campaign)
    assert "Pueden recibirla: 30" in out
    assert "ese día recibirían 3 (limita: máximo diario del número principal (20, ya envió 17 hoy)):" in out
    assert out.count("  · Paciente") == 3


def test_its_preview_names_the_campaigns_limit_when_that_is_lower(number, monkeypatch):
    campaign = draft(number, daily_limit=5)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    out = start(campaign)
    assert "ese día recibirían 5 (limita: límite diario de la campaña (5)):" in out
    assert out.count("  · Paciente") == 5


def test_its_preview_moves_to_tomorrow_when_the_number_is_full_today(number, monkeypatch):
    campaign = draft(number)
    today = number.local_day(timezone.now())
    DailyCounter.objects.create(scope=number.counter_scope, day=today, used=20)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    out = start(campaign)
    assert "Primer envío: mañana 00:00; ese día recibirían 20" in out


def test_it_refuses_an_expired_promotion_before_asking(number, monkeypatch):
    yesterday = number.local_day(timezone.now()) - timedelta(days=1)
    campaign = draft(number, valid_until=yesterday)
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "s")
    with pytest.raises(CommandError, match=f"venció el {yesterday:%d/%m/%Y}") as refused:
        start(campaign)
    # It says how to extend it, with the dashboard's own words.
    assert "«Editar»" in str(refused.value) and "«Válida hasta»" in str(refused.value)
    assert "«Actualizar la promoción existente en todas sus campañas»" in str(refused.value)
    assert asked == []
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_it_gives_skip_reasons_in_spanish(number):
    campaign = draft(number, people=3)
    Contact.objects.create(full_name="Sin permiso", phone="+573009990000", consent=False)
    out = start(campaign, "--yes")
    assert "Mensajes creados: 4 (3 por enviar)" in out
    assert "  omitidos, sin consentimiento: 1" in out
    assert "no_consent" not in out
    assert "Pueden recibirla: 3 (el resto se omite con su motivo)" in out


def test_it_mentions_the_rest_only_when_someone_is_left_out(number):
    out = start(draft(number, people=3), "--yes")
    assert "Pueden recibirla: 3\n" in out
