"""A campaign with a picture, end to end: attached by create_campaign, sent with every message."""

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from goteo.clock import SimulatedClock
from goteo.models import Campaign, CampaignStatus, MessageStatus
from goteo.sending import Engine
from goteo.transports import SendError
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA
from tests.fakes.media_samples import MB, jpeg

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_legal_hours")]

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=BOGOTA)


@pytest.fixture(autouse=True)
def monday(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(timezone, "now", lambda: MONDAY)


def create(memory_sender, picture, *extra):
    out, err = StringIO(), StringIO()
    args = ["create_campaign", "--name", "Monturas", "--template", "Hola {nombre}, {beneficio}"]
    args += ["--promotion-code", "MONTURAS", "--benefit", "30% en monturas", "--valid-until", "31/12/2026"]
    args += ["--sender", memory_sender.name, "--media", str(picture), *extra]
    call_command(*args, stdout=out, stderr=err)
    return Campaign.objects.get(pk=int(out.getvalue().strip()))


def test_it_sends_the_picture_with_each_message_and_the_text_as_its_caption(
    make_campaign, memory_sender, tmp_path
):
    make_campaign(3, launch=False)
    picture = tmp_path / "monturas.jpg"
    picture.write_bytes(jpeg())
    campaign = create(memory_sender, picture, "--start")
    Engine(SimulatedClock(MONDAY), max_wait=3600).run()
    sent = [m for m in MemoryTransport.outbox if m.media is not None]
    assert len(sent) == 3 == campaign.messages.filter(status=MessageStatus.SENT).count()
    assert {m.media.mime for m in sent} == {"image/jpeg"}
    assert all(m.text.startswith("Hola ") for m in sent)  # the caption is the personalised text


def test_it_refuses_a_picture_over_the_limit_and_creates_nothing(memory_sender, tmp_path):
    picture = tmp_path / "grande.jpg"
    picture.write_bytes(jpeg(6 * MB))
    with pytest.raises(CommandError, match="5 MB") as refused:
        create(memory_sender, picture)
    assert "No se creó la campaña" in str(refused.value)
    assert not Campaign.objects.exists()


def test_a_file_the_provider_refuses_pauses_the_campaign_and_keeps_everyone_waiting(
    make_campaign, memory_sender, tmp_path
):
    make_campaign(2, launch=False)
    picture = tmp_path / "monturas.jpg"
    picture.write_bytes(jpeg())
    campaign = create(memory_sender, picture, "--start")

    def refuse(message):
        raise SendError(SendError.PERMANENT, "archivo demasiado grande", campaign_wide=True)

    MemoryTransport.script = refuse
    try:
        Engine(SimulatedClock(MONDAY), max_wait=3600).run()
    finally:
        MemoryTransport.script = None
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert "archivo demasiado grande" in campaign.pause_reason
    assert (campaign.pending_count, campaign.failed_count, campaign.sent_count) == (2, 0, 0)
