"""End to end, in simulated time: a new number's campaign respects warm-up, the frequency
cap, an exclusion list, an opt-out and the legal hours together."""

import itertools
from collections import defaultdict
from datetime import date, datetime, time

import pytest

from goteo.exclusions import import_exclusions
from goteo.launch import campaign_launch
from goteo.models import (
    Campaign,
    Contact,
    DailyCounter,
    Message,
    MessageStatus,
    Promotion,
    Sender,
    SkipReason,
    Tag,
)
from goteo.sending import Engine
from goteo.status import campaign_summary
from goteo.transports.memory import MemoryTransport
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db(transaction=True)


def at(day: int, hh: int = 9) -> datetime:
    return datetime(2026, 1, day, hh, tzinfo=BOGOTA)


def phone(n: int) -> str:
    return f"+57300555{n:04d}"


def campaign_for(sender: Sender, code: str, audience: str, now: datetime) -> Campaign:
    promotion = Promotion.objects.create(
        code=code, name=code, benefit="20% en lentes", valid_until=date(2026, 1, 31)
    )
    campaign = Campaign.objects.create(
        name=code,
        promotion=promotion,
        sender=sender,
        template="Hola {name}: {benefit} con {code}",
        audience=audience,
        daily_limit=20,
        delay_seconds=10,
    )
    campaign_launch(campaign, now)
    campaign.refresh_from_db()
    return campaign


def test_it_respects_warm_up_frequency_cap_exclusions_and_opt_outs_together(clock):
    people = Contact.objects.bulk_create(
        Contact(full_name=f"Paciente {n:02d}", phone=phone(n), consent=True) for n in range(1, 31)
    )
    vip = Tag.objects.create(name="vip")
    vip.contacts.add(*people[:6])
    import_exclusions(f"telefono\n{phone(10)}\n{phone(20)}\n{phone(30)}\n".encode(), at(1), list_name="rne")

    # An established number sends another promotion to the six VIPs on Friday 2 at 09:00.
    shop = Sender.objects.create(name="tienda", backend="memory", daily_cap=30)
    other = campaign_for(shop, "VIP", "tag:vip", at(2))
    clock.set(at(2))
    Engine(clock, max_wait=3600).run([other.pk])
    assert other.messages.filter(status=MessageStatus.SENT).count() == 6

    # A brand-new number, warming up since that Friday, launches for everyone at 10:00.
    new = Sender.objects.create(
        name="nuevo", backend="memory", daily_cap=30, warmup_started_on=date(2026, 1, 2)
    )
    clock.set(at(2, 10))
    campaign = campaign_for(new, "ENERO", "all", clock.now())
    assert (campaign.pending_count, campaign.skipped_count) == (27, 3)
    assert campaign_summary(campaign, clock.now())["estimated_completion"] == date(2026, 1, 9)

    sent_by_day = {}
    for day in (2, 3, 4, 5, 6, 7, 8, 9, 12):
        if day == 5:  # Monday: patient 29 replies BAJA before the day's sends
            Contact.objects.get(phone=phone(29)).opt_out("whatsapp:BAJA", at(5, 8))
        before = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        for hour in (10, 13, 18):  # several runs a day change nothing about the caps
            clock.set(at(day, hour))
            Engine(clock, max_wait=3600).run([campaign.pk])
        after = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count()
        sent_by_day[day] = after - before
        if day == 8:
            campaign.refresh_from_db()
            summary = campaign_summary(campaign, clock.now())
            assert (summary["frequency_held"], summary["next_send_at"]) == (6, at(9, 9))

    # Warm-up: 5 a day in week 1 (Friday 2 to Thursday 8), up to 10 from Friday 9;
    # Saturday and Sunday are outside the campaign's days; the six VIPs wait until day 8.
    assert sent_by_day == {2: 5, 3: 0, 4: 0, 5: 5, 6: 5, 7: 5, 8: 0, 9: 6, 12: 0}
    campaign.refresh_from_db()
    assert campaign.status == "completed"
    assert (campaign.sent_count, campaign.skipped_count, campaign.pending_count) == (26, 4, 0)

    # Exclusions and the opt-out were never messaged, and say why.
    reasons = dict(campaign.messages.filter(status=MessageStatus.SKIPPED).values_list("phone", "skip_reason"))
    assert reasons == {
        phone(10): SkipReason.EXCLUDED,
        phone(20): SkipReason.EXCLUDED,
        phone(30): SkipReason.EXCLUDED,
        phone(29): SkipReason.OPTED_OUT,
    }
    delivered = [m.to for m in MemoryTransport.outbox]
    assert not {phone(10), phone(20), phone(30), phone(29)} & set(delivered)

    # Nobody got two promotions within seven calendar days, and nobody got one twice.
    days_by_phone = defaultdict(list)
    for to, sent_at in Message.objects.filter(status=MessageStatus.SENT).values_list("phone", "sent_at"):
        days_by_phone[to].append(sent_at.astimezone(BOGOTA).date())
    for days in days_by_phone.values():
        days.sort()
        assert all((b - a).days >= 7 for a, b in itertools.pairwise(days))
    assert days_by_phone[phone(1)] == [date(2026, 1, 2), date(2026, 1, 9)]
    assert len(delivered) == 32 == sum(len(d) for d in days_by_phone.values())

    # The new number never went over its warm-up cap, and only sent in legal hours.
    for day in sent_by_day:
        d = date(2026, 1, day)
        assert DailyCounter.used_on(new.counter_scope, d) <= new.cap_on(d)
    for sent_at in campaign.messages.filter(status=MessageStatus.SENT).values_list("sent_at", flat=True):
        local = sent_at.astimezone(BOGOTA)
        assert local.weekday() < 5 and time(9) <= local.time() < time(19)
