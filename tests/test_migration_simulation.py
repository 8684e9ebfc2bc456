"""Upgrading: messages the console "sent" before test mode existed become simulated."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

BEFORE = [("goteo", "0007_inbound_messages")]
AFTER = [("goteo", "0008_simulation")]


@pytest.mark.django_db(transaction=True)
def test_it_turns_printed_sends_into_simulated_ones_and_keeps_real_ones(migrate_to):
    old = migrate_to(BEFORE)
    Sender, Promotion = old.get_model("goteo", "Sender"), old.get_model("goteo", "Promotion")
    Campaign, Message = old.get_model("goteo", "Campaign"), old.get_model("goteo", "Message")
    sender = Sender.objects.create(name="principal", backend="console")
    promotion = Promotion.objects.create(code="P", name="P", benefit="b", valid_until=date(2026, 2, 2))
    at = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)

    def campaign(name, provider_ids):
        c = Campaign.objects.create(name=name, promotion=promotion, sender=sender, template="Hola {name}")
        for i, provider_id in enumerate(provider_ids):
            Message.objects.create(
                campaign=c,
                contact_name="x",
                phone=f"+5730000000{i}{len(name)}",
                status="sent",
                rendered_text="Hola",
                sent_at=at,
                provider_message_id=provider_id,
            )
        Campaign.objects.filter(pk=c.pk).update(sent_count=len(provider_ids), total_count=len(provider_ids))
        return c.pk

    printed = campaign("impresa", ["console-1a2b", "console-3c4d"])
    mixed = campaign("mezclada", ["console-5e6f", "wamid.HBgM"])

    new = migrate_to(AFTER)
    Campaign, Message = new.get_model("goteo", "Campaign"), new.get_model("goteo", "Message")

    rows = Campaign.objects.values_list("pk", "sent_count", "simulated_count", "simulation")
    assert sorted(rows) == sorted([(printed, 0, 2, True), (mixed, 1, 1, False)])
    simulated = Message.objects.filter(status="simulated")
    assert set(simulated.values_list("provider_message_id", "sent_at")) == {
        ("console-1a2b", None),
        ("console-3c4d", None),
        ("console-5e6f", None),
    }
    assert Message.objects.get(provider_message_id="wamid.HBgM").status == "sent"
