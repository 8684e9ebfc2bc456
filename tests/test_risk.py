"""Risk signals per number, and the brake that stops a number before WhatsApp blocks it."""

import json
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from goteo.launch import campaign_launch
from goteo.models import Contact, Message, Sender, Tag
from goteo.risk import BAD, OK, WARNING, Activity, assess, brake_if_risky, sender_risk
from goteo.sending import Engine
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from goteo.warmup import warmup_stage

SEASONED = {"sent_ever": 500}  # a number with history, so the warm-up signal stays quiet


def level(**activity) -> str:
    return assess(Activity(**(SEASONED | activity))).level


def signal(name: str, **activity):
    risk = assess(Activity(**(SEASONED | activity)))
    return next(s for s in risk.signals if s.name == name)


def test_it_is_ok_for_a_quiet_healthy_number():
    risk = assess(
        Activity(finished=40, sent=40, quality_rating="GREEN", health_status="AVAILABLE", sent_ever=400)
    )
    assert risk.level == OK and risk.reasons == []
    assert risk.describe() == "🟢 riesgo bien"


@pytest.mark.parametrize(
    "finished,failed,expected",
    [(9, 9, OK), (10, 0, OK), (10, 1, WARNING), (20, 4, WARNING), (12, 3, BAD), (40, 30, BAD)],
)
def test_it_judges_the_failure_rate_from_ten_messages(finished, failed, expected):
    assert level(finished=finished, sent=finished - failed, failed=failed) == expected


def test_it_watches_recipients_without_whatsapp():
    s = signal("not_on_whatsapp", finished=20, sent=17, failed=3, not_on_whatsapp=3)
    assert (s.level, s.text) == (BAD, "3 de 20 destinatarios sin WhatsApp (15 %)")
    assert signal("not_on_whatsapp", finished=20, sent=19, failed=1, not_on_whatsapp=1).level == WARNING


def test_it_watches_the_opt_out_rate():
    assert signal("opt_out_rate", finished=20, sent=20, opted_out=1).level == BAD  # 5 %
    assert signal("opt_out_rate", finished=50, sent=50, opted_out=1).level == WARNING  # 2 %
    assert signal("opt_out_rate", finished=60, sent=60, opted_out=1).level == OK


def test_it_counts_provider_brakes():
    assert level(brakes=1) == WARNING
    assert level(brakes=2) == BAD
    assert signal("brakes", brakes=2).text == "2 frenos del proveedor en 14 días"
    assert signal("brakes", brakes=1).text == "1 freno del proveedor en 14 días"


def test_it_reads_metas_quality_rating_and_health():
    assert level(quality_rating="YELLOW") == WARNING
    assert level(quality_rating="red") == BAD
    assert level(health_status="LIMITED") == WARNING
    assert level(health_status="BLOCKED") == BAD


def test_it_shows_the_warm_up_and_warns_about_a_new_number_without_it():
    stage = warmup_stage(date(2026, 1, 2), date(2026, 1, 2), 30)
    warming = signal("warmup", warmup=stage, sent_ever=0)
    assert (warming.level, warming.text) == (
        OK,
        "en calentamiento, semana 1 de 3: máximo 5 al día hasta el 08/01/2026",
    )
    cold = assess(Activity(sent_ever=3))
    assert cold.level == WARNING
    assert cold.reasons == [
        "número con poco historial (3 enviados) y sin calentamiento: si es nuevo, ponga la fecha en que empezó a usarse en «En calentamiento desde» del número"
    ]
    assert signal("warmup", sent_ever=1).text.startswith("número con poco historial (1 enviado) y")


def test_it_gives_the_dashboard_every_signal():
    data = assess(Activity(finished=10, sent=7, failed=3, sent_ever=100)).as_dict()
    assert data["level"] == BAD and data["label"] == "alto"
    assert data["reasons"] == ["3 de 10 mensajes fallaron (30 %)"]
    assert {s["name"] for s in data["signals"]} == {"failure_rate", "not_on_whatsapp", "brakes"}


# --- from the database, and the brake ---------------------------------------------------
def not_on_whatsapp_for(phones):
    def script(message):
        if message.to in phones:
            raise SendError(SendError.PERMANENT, "el número no tiene WhatsApp", code="exists:false")

    return script


@pytest.fixture
def bad_day(make_campaign, clock, memory_sender):
    """A campaign of 12 where 4 recipients have no WhatsApp, sent on Friday."""
    campaign = make_campaign(12, daily_limit=30)
    phones = set(campaign.messages.order_by("id").values_list("phone", flat=True)[:4])
    MemoryTransport.script = not_on_whatsapp_for(phones)
    Engine(clock, max_wait=3600).run()
    MemoryTransport.script = None
    return campaign


@pytest.mark.django_db(transaction=True)
def test_it_reads_the_activity_of_a_number(bad_day, clock, memory_sender):
    risk = sender_risk(memory_sender, clock.now())
    assert risk.level == BAD
    assert "4 de 12 mensajes fallaron (33 %)" in risk.reasons
    assert "4 de 12 destinatarios sin WhatsApp (33 %)" in risk.reasons


@pytest.mark.django_db(transaction=True)
def test_it_counts_opt_outs_after_a_promotion(make_campaign, clock, memory_sender):
    make_campaign(20)
    Engine(clock, max_wait=3600).run()
    Contact.objects.order_by("id").first().opt_out("whatsapp:BAJA", clock.now() + timedelta(hours=1))
    risk = sender_risk(memory_sender, clock.now() + timedelta(hours=2))
    assert risk.level == BAD
    assert "1 de 20 personas se dieron de baja (5 %)" in risk.reasons


@pytest.mark.django_db(transaction=True)
def test_it_brakes_a_risky_number_before_it_sends_again(bad_day, make_campaign, clock, memory_sender):
    second = make_campaign(5)
    clock.advance(hours=1)
    summary = Engine(clock, max_wait=3600).run()
    memory_sender.refresh_from_db()
    second.refresh_from_db()
    assert summary.sent == 0 and summary.braked
    assert memory_sender.is_braked(clock.now())
    assert memory_sender.pause_reason.startswith("Riesgo alto de bloqueo: 4 de 12 mensajes fallaron")
    assert second.status == "paused" and second.pause_reason == memory_sender.pause_reason
    assert memory_sender.brake_log[-1]["source"] == "riesgo"


def new_people_campaign(make_campaign, clock, n):
    """A campaign for ``n`` new contacts only (tagged), so nobody from earlier tests repeats."""
    campaign = make_campaign(n, launch=False, audience="tag:nuevos")
    tag = Tag.objects.create(name="nuevos")
    tag.contacts.add(*Contact.objects.order_by("-id")[:n])
    campaign_launch(campaign, clock.now())
    campaign.refresh_from_db()
    return campaign


@pytest.mark.django_db(transaction=True)
def test_it_does_not_brake_again_for_the_same_evidence_after_a_person_resumes(
    bad_day, make_campaign, clock, memory_sender
):
    second = new_people_campaign(make_campaign, clock, 15)
    brake_if_risky(memory_sender, clock.now())
    clock.set(clock.now() + timedelta(days=3))  # Monday: the day's brake is over
    second.resume()
    summary = Engine(clock, max_wait=3600).run()
    assert summary.sent == 15 and not summary.braked
    memory_sender.refresh_from_db()
    risk = sender_risk(memory_sender, clock.now())  # only Monday's sends count now
    assert [s.text for s in risk.signals if s.name == "failure_rate"] == ["0 de 15 mensajes fallaron (0 %)"]
    assert risk.level == WARNING  # the number is still new: 23 sent and no warm-up


@pytest.mark.django_db(transaction=True)
def test_it_brakes_after_two_provider_brakes(make_campaign, clock, memory_sender):
    campaign = make_campaign(3)
    for days_ago in (3, 1):
        then = clock.now() - timedelta(days=days_ago)
        memory_sender.brake("Freno automático: spam", then + timedelta(hours=1), now=then)
    campaign.resume()
    Engine(clock, max_wait=3600).run()
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert "2 frenos del proveedor en 14 días" in campaign.pause_reason


@pytest.mark.django_db(transaction=True)
def test_it_brakes_on_a_red_quality_rating(make_campaign, clock, memory_sender):
    campaign = make_campaign(2)
    Sender.objects.filter(pk=memory_sender.pk).update(health={"extra": {"quality_rating": "RED"}})
    Engine(clock, max_wait=3600).run()
    campaign.refresh_from_db()
    assert campaign.status == "paused" and "calidad del número en Meta: RED" in campaign.pause_reason
    assert MemoryTransport.outbox == []


@pytest.mark.django_db(transaction=True)
def test_it_shows_the_risk_in_campaign_status_and_sender_risk(bad_day):
    # The commands read the real clock: the failures happened an hour ago.
    Message.objects.update(claimed_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    call_command("campaign_status", str(bad_day.pk), stdout=out)
    assert "Número pruebas: 🔴 riesgo alto: 4 de 12 mensajes fallaron (33 %)" in out.getvalue()
    out = StringIO()
    call_command("campaign_status", str(bad_day.pk), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["sender_risk"]["level"] == "bad"
    out = StringIO()
    call_command("sender_risk", "pruebas", "--json", stdout=out)
    assert json.loads(out.getvalue())["senders"][0]["level"] == "bad"


@pytest.mark.django_db(transaction=True)
def test_it_only_warns_when_the_brake_is_turned_off(make_campaign, clock, memory_sender, monkeypatch):
    monkeypatch.setenv("GOTEO_RISK_BRAKE", "off")
    campaign = make_campaign(2)
    Sender.objects.filter(pk=memory_sender.pk).update(health={"extra": {"quality_rating": "RED"}})
    memory_sender.refresh_from_db()
    assert sender_risk(memory_sender, clock.now()).level == BAD
    summary = Engine(clock, max_wait=3600).run()
    campaign.refresh_from_db()
    assert campaign.status == "completed" and summary.sent == 2 and not summary.braked
