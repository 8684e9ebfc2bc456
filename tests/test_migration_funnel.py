"""Upgrading: the funnel's delivered and read counters start from the receipts already kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

BEFORE = [("goteo", "0012_results")]
AFTER = [("goteo", "0013_funnel_counts")]


@pytest.mark.django_db(transaction=True)
def test_it_counts_the_deliveries_and_readings_already_received(migrate_to):
    old = migrate_to(BEFORE)
    Sender, Promotion = old.get_model("goteo", "Sender"), old.get_model("goteo", "Promotion")
    Campaign, Message = old.get_model("goteo", "Campaign"), old.get_model("goteo", "Message")
    sender = Sender.objects.create(name="principal", backend="memory")
    promotion = Promotion.objects.create(code="P", name="P", benefit="b", valid_until=date(2026, 2, 2))
    when = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)

    def campaign(name, stamps, *, simulation=False):
        c = Campaign.objects.create(
            name=name, promotion=promotion, sender=sender, template="Hola {name}", simulation=simulation
        )
        for i, (delivered, read) in enumerate(stamps):
            Message.objects.create(
                campaign=c,
                contact_name="x",
                phone=f"+5730000000{i}{len(name)}",
                status="simulated" if simulation else "sent",
                rendered_text="Hola",
                delivered_at=when if delivered else None,
                read_at=when if read else None,
            )
        return c.pk

    # delivered and read; delivered only; read with its "delivered" lost; nothing yet
    real = campaign("real", [(True, True), (True, False), (False, True), (False, False)])
    quiet = campaign("sin acuses", [(False, False)])
    printed = campaign("impresa", [(True, True)], simulation=True)

    new = migrate_to(AFTER)
    rows = new.get_model("goteo", "Campaign").objects.values_list("pk", "delivered_count", "read_count")

    assert sorted(rows) == sorted([(real, 3, 2), (quiet, 0, 0), (printed, 0, 0)])
    read_only = new.get_model("goteo", "Message").objects.get(
        campaign_id=real, phone__startswith="+57300000002"
    )
    assert read_only.delivered_at == read_only.read_at == when  # a late "delivered" will not count it again
