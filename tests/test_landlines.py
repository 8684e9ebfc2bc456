"""Landlines: WhatsApp does not reach them, so a launch skips them as «teléfono fijo», and a
retry does not send to them again, unless the shop allows them (GOTEO_ALLOW_LANDLINES)."""

from datetime import date, datetime
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import override

from goteo.launch import campaign_launch, preview_recipients
from goteo.models import Campaign, Contact, Message, MessageStatus, Promotion, SkipReason
from goteo.sending import Engine
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db(transaction=True)
NOW = datetime(2026, 1, 2, 9, 0, tzinfo=BOGOTA)
MOBILE, LANDLINE = "+573009787566", "+576044445555"  # (604) is Medellín's fixed-line prefix


@pytest.fixture
def people(db):
    Contact.objects.create(full_name="Ana Ruiz", phone="300 978 7566", consent=True)
    Contact.objects.create(full_name="Óptica Centro", phone="(604) 444 5555", consent=True)


def draft(sender, **fields) -> Campaign:
    promotion = Promotion.objects.create(
        code=f"P{Promotion.objects.count()}", name="P", benefit="b", valid_until=date(2099, 12, 31)
    )
    return Campaign.objects.create(
        name="c", promotion=promotion, sender=sender, template="Hola {name}", **fields
    )


def test_a_contact_knows_its_phone_is_a_landline(people):
    assert dict(Contact.objects.values_list("phone", "landline")) == {MOBILE: False, LANDLINE: True}
    ana = Contact.objects.get(phone=MOBILE)
    ana.phone = "604 444 5556"
    ana.save(update_fields=["phone"])
    ana.refresh_from_db()
    assert ana.landline


def test_it_skips_a_landline_at_launch_with_its_reason(people, memory_sender):
    campaign = draft(memory_sender)

    result = campaign_launch(campaign, NOW)

    skipped = Message.objects.get(phone=LANDLINE)
    assert (skipped.status, skipped.skip_reason) == (MessageStatus.SKIPPED, SkipReason.LANDLINE)
    assert skipped.get_skip_reason_display() == "teléfono fijo"
    assert (result.pending, result.skipped) == (1, {SkipReason.LANDLINE: 1})
    assert preview_recipients(draft(memory_sender), 10) == (1, [("Ana Ruiz", MOBILE)])
    with override("en"):
        assert str(SkipReason.LANDLINE.label) == "landline"


def test_it_sends_to_a_landline_the_shop_allowed(people, memory_sender, settings):
    settings.GOTEO_ALLOW_LANDLINES = True

    result = campaign_launch(draft(memory_sender), NOW)

    assert result.pending == 2 and not result.skipped
    assert preview_recipients(draft(memory_sender), 10)[0] == 2


def test_start_campaign_names_the_reason_in_spanish(people, memory_sender, monkeypatch):
    monkeypatch.setenv("GOTEO_COMPLIANCE_PROFILE", "none")
    campaign = draft(memory_sender)
    out = StringIO()

    call_command("start_campaign", str(campaign.pk), "--yes", stdout=out, stderr=StringIO())

    assert "omitidos, teléfono fijo: 1" in out.getvalue()


def fail_everything(campaign: Campaign, clock) -> None:
    def reject(message):
        raise SendError(SendError.PERMANENT, "el número no tiene WhatsApp")

    MemoryTransport.script = reject
    Engine(clock, max_wait=3600).run([campaign.pk])
    MemoryTransport.script = None


def test_a_retry_does_not_send_to_a_landline_again(people, memory_sender, settings, clock):
    # Launched while landlines were allowed; both failed; the shop then turned the setting off.
    settings.GOTEO_ALLOW_LANDLINES = True
    campaign = draft(memory_sender, delay_seconds=0)
    campaign_launch(campaign, clock.now())
    fail_everything(campaign, clock)
    assert campaign.messages.filter(status=MessageStatus.FAILED).count() == 2
    settings.GOTEO_ALLOW_LANDLINES = False
    out = StringIO()

    call_command("requeue_failed", str(campaign.pk), stdout=out)

    assert dict(campaign.messages.values_list("phone", "status")) == {
        MOBILE: MessageStatus.PENDING,
        LANDLINE: MessageStatus.FAILED,
    }
    assert "1 mensaje fallido vuelve a estar pendiente" in out.getvalue()
    assert "1 mensaje fallido no se reintenta: es un teléfono fijo" in out.getvalue()


def test_a_retry_resends_to_a_landline_the_shop_allowed(people, memory_sender, settings, clock):
    settings.GOTEO_ALLOW_LANDLINES = True
    campaign = draft(memory_sender, delay_seconds=0)
    campaign_launch(campaign, clock.now())
    fail_everything(campaign, clock)

    assert campaign.requeue_failed(timezone.now()) == 2


def test_the_upgrade_marks_the_landlines_already_stored(people):
    migration = __import__("goteo.migrations.0006_landline", fromlist=["mark_landlines"])
    Contact.objects.update(landline=False)

    migration.mark_landlines(apps, None)

    assert list(Contact.objects.filter(landline=True).values_list("phone", flat=True)) == [LANDLINE]
