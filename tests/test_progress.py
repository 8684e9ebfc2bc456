"""Progress counts over the people who can receive a campaign; the skipped are apart."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from goteo.models import CampaignStatus, Contact
from goteo.progress import campaign_progress
from goteo.sending import Engine
from tests.dashboard import page_text


def counts(**given: int) -> dict[str, int]:
    return {"total": 0, "sent": 0, "pending": 0, "failed": 0, "skipped": 0, "unknown": 0} | given


def test_it_leaves_the_skipped_out_of_the_progress():
    progress = campaign_progress(counts(total=10, sent=8, skipped=2))
    assert (progress.sent, progress.receivable, progress.skipped, progress.percent) == (8, 8, 2, 100)


def test_it_never_rounds_up_to_a_finished_hundred():
    assert campaign_progress(counts(total=200, sent=199, pending=1)).percent == 99


def test_it_is_zero_when_nobody_can_receive_it():
    assert campaign_progress(counts(total=3, skipped=3)).percent == 0


@pytest.fixture
def finished(db, make_campaign, clock):
    """Ten people, two without consent: eight sent and the campaign completed."""
    Contact.objects.bulk_create(
        Contact(full_name=f"Sin permiso {i}", phone=f"+57300999000{i}", consent=False) for i in range(2)
    )
    campaign = make_campaign(8, daily_limit=20)
    Engine(clock, max_wait=3600).run([campaign.pk])
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sent_count, campaign.skipped_count) == (CampaignStatus.COMPLETED, 8, 2)
    return campaign


def test_campaign_status_shows_eight_of_eight(finished):
    out = StringIO()
    call_command("campaign_status", str(finished.pk), stdout=out)
    text = out.getvalue()
    assert "✅ Enviados: 8 de 8 (100%)" in text
    assert "⏭  Omitidos: 2 (no pueden recibirla; fuera del avance)" in text
    assert "] 100%" in text


def test_campaign_status_json_keeps_its_keys_and_adds_the_progress(finished):
    out = StringIO()
    call_command("campaign_status", str(finished.pk), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["sent"], data["skipped"], data["total"], data["percent"]) == (8, 2, 10, 80)
    assert (data["receivable"], data["progress_percent"]) == (8, 100)


def test_the_dashboard_card_and_list_show_eight_of_eight(staff, finished):
    for url in (reverse("goteo:campaign_detail", args=[finished.pk]), reverse("goteo:campaign_list")):
        response = staff.get(url)
        assert "✅ Enviados: 8 de 8 (100%)" in page_text(response), url
        assert '<progress max="100" value="100"' in response.content.decode(), url
