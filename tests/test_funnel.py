"""The funnel's arithmetic: shares of those sent, never a division by zero."""

from __future__ import annotations

from django.utils import translation

from goteo.funnel import Step, funnel, rate, results
from goteo.models import Campaign
from goteo.web.formatting import rate_text


def test_it_gives_each_result_as_a_share_of_those_sent_to_one_decimal():
    assert rate(1, 3) == 33.3
    assert rate(3, 3) == 100.0
    assert rate(0, 7) == 0.0


def test_it_has_no_share_when_nothing_was_sent():
    assert rate(0, 0) is None
    assert rate(2, 0) is None  # a late receipt for a campaign whose sends were undone


def test_a_bar_never_runs_past_its_full_length():
    assert Step("delivered", "Entregados", 12, 120.0).bar == 100
    assert Step("read", "Leídos", 1, 33.3).bar == 33
    assert Step("read", "Leídos", 0, None).bar == 0


def test_the_funnel_goes_from_sent_to_redeemed_with_opt_outs_and_failures_beside():
    campaign = Campaign(
        sent_count=200,
        delivered_count=190,
        read_count=150,
        replied_count=30,
        redeemed_count=9,
        opted_out_count=2,
        failed_count=4,
    )

    shown = funnel(campaign)

    assert [(s.key, s.count, s.rate) for s in shown["steps"]] == [
        ("sent", 200, 100.0),
        ("delivered", 190, 95.0),
        ("read", 150, 75.0),
        ("replied", 30, 15.0),
        ("redeemed", 9, 4.5),
    ]
    assert [(s.key, s.count, s.rate) for s in shown["beside"]] == [("opted_out", 2, 1.0), ("failed", 4, 2.0)]
    assert [str(s.label) for s in shown["steps"]] == [
        "Enviados",
        "Entregados",
        "Leídos",
        "Respondieron",
        "Canjearon",
    ]


def test_a_campaign_that_sent_nothing_has_counts_and_no_shares():
    campaign = Campaign(failed_count=3)

    shown = funnel(campaign)

    assert all(s.rate is None for s in shown["steps"] + shown["beside"])
    assert results(campaign) == {
        "sent": 0,
        "delivered": 0,
        "read": 0,
        "replied": 0,
        "redeemed": 0,
        "opted_out": 0,
        "failed": 3,
    }


def test_it_says_a_share_the_way_people_write_it():
    with translation.override("es"):
        assert [rate_text(v) for v in (12.5, 7.0, 0.0, None)] == ["12,5 %", "7 %", "0 %", "—"]
    with translation.override("en"):
        assert rate_text(12.5) == "12.5 %"
