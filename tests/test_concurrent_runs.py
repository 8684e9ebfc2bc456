"""Several ``process_campaigns`` processes at once on a real database: never twice, caps exact."""

import json
from datetime import date, time

import pytest

from goteo.launch import campaign_launch
from goteo.models import Campaign, Contact, Message, Promotion, Sender
from tests.processes import goteo_env, start

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_legal_hours"),
    pytest.mark.slow,
]


def launch(n: int, sender_cap: int, daily_limit: int) -> Campaign:
    from django.utils import timezone

    sender = Sender.objects.create(name="archivo", backend="file", daily_cap=sender_cap)
    Contact.objects.bulk_create(
        Contact(full_name=f"P {i}", phone=f"+57300300{i:04d}", consent=True) for i in range(n)
    )
    promotion = Promotion.objects.create(code="C", name="C", benefit="b", valid_until=date(2099, 1, 1))
    campaign = Campaign.objects.create(
        name="carrera",
        promotion=promotion,
        sender=sender,
        template="Hola {name}",
        delay_seconds=0,
        daily_limit=daily_limit,
        window_start=time(0),
        window_end=time.max,
        send_days="mon,tue,wed,thu,fri,sat,sun",
        skip_holidays=False,
    )
    campaign_launch(campaign, timezone.now())
    return campaign


def race(tmp_path, processes: int, outbox):
    env = goteo_env(tmp_path)
    Sender.objects.filter(name="archivo").update(config={"path": str(outbox)})
    runs = [start(["process_campaigns", "--json"], env) for _ in range(processes)]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (_out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in results]


def delivered(outbox) -> list[str]:
    return [json.loads(line)["to"] for line in outbox.read_text(encoding="utf-8").splitlines()]


def test_it_never_sends_twice_with_concurrent_runs(tmp_path):
    campaign = launch(60, sender_cap=1000, daily_limit=1000)
    outbox = tmp_path / "outbox.jsonl"
    summaries = race(tmp_path, 4, outbox)
    phones = delivered(outbox)
    assert len(phones) == 60 == len(set(phones))
    assert sum(s["sent"] for s in summaries) == 60
    campaign.refresh_from_db()
    assert campaign.sent_count == 60 and campaign.status == "completed"
    assert Message.objects.filter(status="sent").count() == 60


def test_it_never_exceeds_the_cap_with_concurrent_runs(tmp_path):
    campaign = launch(60, sender_cap=25, daily_limit=1000)
    outbox = tmp_path / "outbox.jsonl"
    race(tmp_path, 4, outbox)
    phones = delivered(outbox)
    assert len(phones) == 25 == len(set(phones))
    campaign.refresh_from_db()
    assert (campaign.sent_count, campaign.pending_count) == (25, 35)
