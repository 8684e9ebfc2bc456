"""End to end: ``process_campaigns`` against the fake Cloud API, with webhooks arriving mid-run.

A campaign of 50: one person is not on WhatsApp, one opts out by replying while the
campaign runs, one send is accepted but its answer never comes back, and one send gets
Meta's spam signal. Every message ends where it should, and no phone is sent to twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from goteo.clock import SimulatedClock
from goteo.models import Campaign, Contact, Message, MessageStatus, Sender
from tests.conftest import BOGOTA, FRIDAY
from tests.fakes import meta_webhooks as meta
from tests.fakes.cloud import ACCEPT_THEN_HANG, FakeCloudAPI, graph_error
from tests.fakes.records import cloud_sender

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("plain_environment")]

NOT_ON_WHATSAPP, TIMES_OUT, OPTS_OUT, SPAM = 5, 12, 30, 40


class ScriptedClock(SimulatedClock):
    """Simulated time that runs an action during the engine's pauses once a condition holds."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.actions: list[tuple[Callable[[], bool], Callable[[], None]]] = []

    def when(self, condition: Callable[[], bool], action: Callable[[], None]) -> None:
        self.actions.append((condition, action))

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        for entry in list(self.actions):
            if entry[0]():
                self.actions.remove(entry)
                entry[1]()


def process_campaigns(clock: SimulatedClock, monkeypatch) -> int:
    """Run the command on ``clock``; returns its exit code."""
    monkeypatch.setattr("goteo.management.commands.process_campaigns.SystemClock", lambda: clock)
    try:
        call_command("process_campaigns", stdout=StringIO(), stderr=StringIO())
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_it_runs_a_campaign_of_fifty_through_every_kind_of_outcome(make_campaign, monkeypatch):
    with FakeCloudAPI() as api:
        sender = cloud_sender(base_url=api.url, read_timeout=0.5)
        campaign = make_campaign(
            50,
            sender=sender,
            daily_limit=50,
            provider_template={"name": "promo_optica", "language": "es", "params": ["name", "code"]},
        )
        messages = list(campaign.messages.order_by("id"))
        phones = [m.phone for m in messages]
        api.by_phone[phones[NOT_ON_WHATSAPP]] = graph_error(131026, "not a WhatsApp user")
        api.by_phone[phones[TIMES_OUT]] = ACCEPT_THEN_HANG
        api.by_phone[phones[SPAM]] = graph_error(131048, "spam rate limit hit")
        client = Client()

        clock = ScriptedClock(datetime.combine(FRIDAY, time(10, 0), tzinfo=BOGOTA))
        clock.when(
            lambda: sum(api.seen.values()) >= 20,
            lambda: meta.post(client, meta.inbound_text(phones[OPTS_OUT], "BAJA")),
        )
        assert process_campaigns(clock, monkeypatch) == 0

        # The run stopped at the spam signal: the number is braked, the campaign paused.
        sender.refresh_from_db()
        campaign = Campaign.objects.get(pk=campaign.pk)
        assert sender.is_braked(clock.now())
        assert campaign.status == "paused"
        assert "131048" in campaign.pause_reason
        assert not clock.actions, "the opt-out webhook arrived mid-campaign"

        def status_of(index: int) -> str:
            return Message.objects.get(pk=messages[index].pk).status

        assert status_of(NOT_ON_WHATSAPP) == MessageStatus.FAILED
        assert status_of(TIMES_OUT) == MessageStatus.UNKNOWN
        assert status_of(OPTS_OUT) == MessageStatus.SKIPPED
        assert Contact.objects.get(phone=phones[OPTS_OUT]).opted_out is True
        assert status_of(SPAM) == MessageStatus.PENDING
        sent = [i for i in range(SPAM) if i not in (NOT_ON_WHATSAPP, TIMES_OUT, OPTS_OUT)]
        assert all(status_of(i) == MessageStatus.SENT for i in sent)
        assert all(status_of(i) == MessageStatus.PENDING for i in range(SPAM + 1, 50))
        counters = campaign.counts()
        assert campaign.recount() == counters
        assert (campaign.sent_count, campaign.failed_count, campaign.unknown_count) == (37, 1, 1)
        assert (campaign.skipped_count, campaign.pending_count) == (1, 10)

        # Meta later confirms the send whose answer was lost: unknown becomes sent.
        lost = next(a for a in api.accepted if a["to"] == phones[TIMES_OUT])
        assert lost["body"]["biz_opaque_callback_data"] == str(messages[TIMES_OUT].uuid)
        receipt = meta.status(
            lost["id"], "delivered", phones[TIMES_OUT], opaque=str(messages[TIMES_OUT].uuid)
        )
        assert meta.post(client, meta.statuses(receipt)).status_code == 200
        assert status_of(TIMES_OUT) == MessageStatus.SENT

        # The fake saw each phone at most once, and never the person who opted out.
        assert max(api.seen.values()) == 1
        assert phones[OPTS_OUT] not in api.seen
        assert set(api.seen) == {phones[i] for i in range(SPAM + 1) if i != OPTS_OUT}

        # Another run the same day sends nothing: the brake holds.
        requests_before = len(api.requests_to("POST"))
        clock.advance(minutes=30)
        assert process_campaigns(clock, monkeypatch) == 0
        assert len(api.requests_to("POST")) == requests_before

        # Next day a person resumes; the rest go out and nobody is sent to twice.
        del api.by_phone[phones[SPAM]]
        clock.set(datetime.combine(FRIDAY + timedelta(days=3), time(10, 0), tzinfo=BOGOTA))
        assert campaign.resume()
        assert process_campaigns(clock, monkeypatch) == 0

        campaign = Campaign.objects.get(pk=campaign.pk)
        accepted = [a["to"] for a in api.accepted]
        assert len(accepted) == len(set(accepted)) == 48
        assert phones[OPTS_OUT] not in accepted and phones[NOT_ON_WHATSAPP] not in accepted
        assert campaign.status == "completed"
        assert (campaign.sent_count, campaign.failed_count, campaign.skipped_count) == (48, 1, 1)
        assert Sender.objects.get(pk=sender.pk).is_braked(clock.now()) is False
