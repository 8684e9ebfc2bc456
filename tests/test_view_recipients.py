"""A campaign's recipients: by status, searchable, paginated; resolving unknown messages; CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goteo.models import CampaignStatus, Message, MessageEvent, MessageStatus, Redemption
from goteo.sending import Engine
from goteo.web.recipients import PAGE_SIZE
from tests.conftest import BOGOTA
from tests.dashboard import page_text

# The dashboard is tested beside real sending runs, which refuse to run inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def recipients(staff, campaign, **params):
    return staff.get(reverse("goteo:campaign_recipients", args=[campaign.pk]), params)


def make_unknown(campaign, n, clock):
    ids = list(
        campaign.messages.filter(status=MessageStatus.PENDING).order_by("id").values_list("id", flat=True)[:n]
    )
    Message.move(
        Message.objects.filter(pk__in=ids),
        MessageStatus.UNKNOWN,
        clock.now(),
        last_error="el proveedor no respondió a tiempo",
        claimed_at=clock.now(),
    )
    return ids


def test_it_lists_recipients_with_text_time_delivery_and_error(staff, make_campaign, clock):
    campaign = make_campaign(3, daily_limit=2)
    Engine(clock, max_wait=3600).run([campaign.pk])
    first = campaign.messages.order_by("id").first()
    Message.objects.filter(pk=first.pk).update(
        delivery_status="read",
        delivered_at=datetime(2026, 1, 2, 10, 1, tzinfo=BOGOTA),
        read_at=datetime(2026, 1, 2, 10, 5, tzinfo=BOGOTA),
    )

    text = page_text(recipients(staff, campaign))

    assert "Persona 0 Prueba" in text
    assert "+573002000000" in text
    assert "¡Hola Persona! 30% de descuento con el código PROMO1" in text
    assert "02/01/2026 10:00" in text
    assert "Leído 02/01 10:05" in text
    assert "Pendiente" in text


def test_it_filters_by_status_with_counts_in_the_tabs(staff, make_campaign, clock):
    campaign = make_campaign(5, daily_limit=2)
    Engine(clock, max_wait=3600).run([campaign.pk])

    response = recipients(staff, campaign, estado="sent")
    text = page_text(response)

    assert "Enviado 2" in text and "Pendiente 3" in text and "Todos 5" in text
    assert "Persona 0 Prueba" in text and "Persona 1 Prueba" in text
    assert "Persona 2 Prueba" not in text


def test_it_shows_the_reason_of_a_skipped_message(staff, make_campaign):
    campaign = make_campaign(2)
    campaign.cancel(datetime(2026, 1, 2, 11, 0, tzinfo=BOGOTA))

    text = page_text(recipients(staff, campaign, estado="skipped"))

    assert "Motivo\ncampaña cancelada" in text


@pytest.mark.parametrize(
    ("query", "found", "missing"),
    [
        ("Persona 3", "Persona 3 Prueba", "Persona 4 Prueba"),
        ("persona 3", "Persona 3 Prueba", "Persona 4 Prueba"),
        ("300 200 0004", "Persona 4 Prueba", "Persona 3 Prueba"),
        ("+573002000004", "Persona 4 Prueba", "Persona 3 Prueba"),
        ("0003", "Persona 3 Prueba", "Persona 4 Prueba"),
    ],
)
def test_it_searches_by_name_or_phone(staff, make_campaign, query, found, missing):
    campaign = make_campaign(6)

    text = page_text(recipients(staff, campaign, q=query))

    assert found in text
    assert missing not in text


def test_it_pages_by_id_both_ways(staff, make_campaign):
    campaign = make_campaign(PAGE_SIZE * 2 + 5)
    ids = list(campaign.messages.order_by("id").values_list("id", flat=True))

    first = recipients(staff, campaign)
    assert first.context["page"]["rows"][0].pk == ids[0]
    assert first.context["previous_url"] is None
    second = staff.get(first.context["next_url"])
    assert [m.pk for m in second.context["page"]["rows"]] == ids[PAGE_SIZE : 2 * PAGE_SIZE]
    third = staff.get(second.context["next_url"])
    assert [m.pk for m in third.context["page"]["rows"]] == ids[2 * PAGE_SIZE :]
    assert third.context["next_url"] is None
    back = staff.get(third.context["previous_url"])
    assert [m.pk for m in back.context["page"]["rows"]] == ids[PAGE_SIZE : 2 * PAGE_SIZE]
    assert "?antes=" in third.context["previous_url"]


def test_it_keeps_the_filters_while_paging(staff, make_campaign):
    campaign = make_campaign(PAGE_SIZE + 3)

    first = recipients(staff, campaign, estado="pending")

    assert first.context["next_url"].startswith(reverse("goteo:campaign_recipients", args=[campaign.pk]))
    assert "estado=pending" in first.context["next_url"]


def test_it_offers_decisions_for_unknown_messages(staff, make_campaign, clock):
    campaign = make_campaign(3)
    make_unknown(campaign, 1, clock)

    text = page_text(recipients(staff, campaign, estado="unknown"))

    assert "el proveedor no respondió a tiempo" in text
    assert "Marcar como enviados" in text
    assert "Marcar como fallidos" in text
    assert "Reenviar…" in text


def test_it_marks_unknown_messages_as_sent_and_records_who(staff, make_campaign, clock):
    campaign = make_campaign(3)
    ids = make_unknown(campaign, 2, clock)

    response = staff.post(
        reverse("goteo:campaign_resolve_unknown", args=[campaign.pk]),
        {"message": [str(i) for i in ids], "decision": "sent"},
        follow=True,
    )

    campaign.refresh_from_db()
    assert campaign.sent_count == 2 and campaign.unknown_count == 0
    assert all(m.sent_at is not None for m in Message.objects.filter(pk__in=ids))
    events = MessageEvent.objects.filter(message_id__in=ids, to_status=MessageStatus.SENT)
    assert [e.actor for e in events] == ["ana", "ana"]
    assert "2 mensajes marcados como enviados." in page_text(response)


def test_it_marks_unknown_messages_as_failed(staff, make_campaign, clock):
    campaign = make_campaign(1)
    ids = make_unknown(campaign, 1, clock)

    staff.post(
        reverse("goteo:campaign_resolve_unknown", args=[campaign.pk]),
        {"message": [str(i) for i in ids], "decision": "failed"},
    )

    campaign.refresh_from_db()
    assert campaign.failed_count == 1
    assert campaign.status == CampaignStatus.COMPLETED  # nothing else was pending


def test_it_warns_before_resending(staff, make_campaign, clock):
    campaign = make_campaign(2)
    ids = make_unknown(campaign, 1, clock)

    response = staff.post(
        reverse("goteo:campaign_resolve_unknown", args=[campaign.pk]),
        {"message": [str(ids[0])], "decision": "resend"},
    )

    assert "la persona puede recibir la promoción dos veces" in page_text(response)
    assert Message.objects.get(pk=ids[0]).status == MessageStatus.UNKNOWN


def test_it_resends_after_confirmation_and_records_the_decision(staff, make_campaign, clock):
    campaign = make_campaign(1)
    ids = make_unknown(campaign, 1, clock)
    campaign.complete_if_done(clock.now())
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED

    staff.post(
        reverse("goteo:campaign_resolve_unknown", args=[campaign.pk]),
        {"message": [str(ids[0])], "decision": "resend", "confirm": "1"},
    )

    message = Message.objects.get(pk=ids[0])
    campaign.refresh_from_db()
    assert message.status == MessageStatus.PENDING and message.attempts == 0
    assert campaign.status == CampaignStatus.ACTIVE and campaign.pending_count == 1
    event = MessageEvent.objects.get(message=message, to_status=MessageStatus.PENDING)
    assert event.actor == "ana"
    assert "puede recibirlo dos veces" in event.detail


def test_it_does_not_resend_in_a_cancelled_campaign(staff, make_campaign, clock):
    campaign = make_campaign(2)
    ids = make_unknown(campaign, 1, clock)
    campaign.cancel(clock.now())

    response = staff.post(
        reverse("goteo:campaign_resolve_unknown", args=[campaign.pk]),
        {"message": [str(ids[0])], "decision": "resend", "confirm": "1"},
        follow=True,
    )

    assert "no se puede reenviar" in page_text(response)
    assert Message.objects.get(pk=ids[0]).status == MessageStatus.UNKNOWN


def test_it_leaves_other_campaigns_messages_alone(staff, make_campaign, clock):
    mine = make_campaign(1)
    other = make_campaign(1)
    theirs = make_unknown(other, 1, clock)

    staff.post(
        reverse("goteo:campaign_resolve_unknown", args=[mine.pk]),
        {"message": [str(theirs[0])], "decision": "sent"},
    )

    assert Message.objects.get(pk=theirs[0]).status == MessageStatus.UNKNOWN


def test_it_exports_the_results_as_csv(staff, make_campaign, clock):
    campaign = make_campaign(3, daily_limit=2)
    Engine(clock, max_wait=3600).run([campaign.pk])

    response = staff.get(reverse("goteo:campaign_export", args=[campaign.pk]))
    body = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="campana-{campaign.pk}.csv"' in response["Content-Disposition"]
    assert rows[0][:3] == ["nombre", "teléfono", "estado"]
    assert len(rows) == 4
    assert rows[1][:3] == ["Persona 0 Prueba", "+573002000000", "Enviado"]
    assert rows[1][4] == "2026-01-02 10:00:00"
    assert rows[3][2] == "Pendiente"


def test_it_keeps_spreadsheet_formulas_out_of_the_export(staff, make_campaign):
    campaign = make_campaign(1)
    Message.objects.filter(campaign=campaign).update(contact_name='=HYPERLINK("http://x")')

    body = b"".join(
        staff.get(reverse("goteo:campaign_export", args=[campaign.pk])).streaming_content
    ).decode()

    assert "'=HYPERLINK" in body
    assert ",+573002000000," in body


def export(staff, campaign) -> list[dict[str, str]]:
    response = staff.get(reverse("goteo:campaign_export", args=[campaign.pk]))
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def test_the_export_says_who_was_reached_replied_and_redeemed_with_which_code(staff, make_campaign, clock):
    campaign = make_campaign(3)
    own, shared, nothing = campaign.messages.order_by("id")
    when = datetime(2026, 1, 2, 11, 0, tzinfo=BOGOTA)
    Message.move(campaign.messages.all(), MessageStatus.SENT, clock.now(), sent_at=when)
    Message.objects.filter(pk=own.pk).update(
        delivered_at=when,
        read_at=when.replace(minute=5),
        replied_at=when.replace(minute=9),
        code="PROMO1-7K3F",
    )
    Message.objects.filter(pk=shared.pk).update(delivered_at=when)
    # One redeemed their own code; the other came in with the shared one and gave their phone.
    Redemption.objects.create(
        promotion_id=campaign.promotion_id,
        campaign=campaign,
        message=own,
        phone=own.phone,
        code="PROMO1-7K3F",
        redeemed_at=datetime(2026, 1, 3, 16, 0, tzinfo=BOGOTA),
        redeemed_by="ana",
    )
    Redemption.objects.create(
        promotion_id=campaign.promotion_id,
        phone=shared.phone,
        code="PROMO1",
        redeemed_at=datetime(2026, 1, 4, 10, 30, tzinfo=BOGOTA),
        redeemed_by="ana",
    )

    rows = export(staff, campaign)

    picked = [(r["entregado"], r["leído"], r["respondió"], r["canjeó"], r["código"]) for r in rows]
    assert picked == [
        (
            "2026-01-02 11:00:00",
            "2026-01-02 11:05:00",
            "2026-01-02 11:09:00",
            "2026-01-03 16:00:00",
            "PROMO1-7K3F",
        ),
        ("2026-01-02 11:00:00", "", "", "2026-01-04 10:30:00", ""),
        ("", "", "", "", ""),
    ]
    assert nothing.phone == rows[2]["teléfono"]


def test_the_export_reads_the_redemptions_with_the_rows_not_one_by_one(staff, make_campaign, clock):
    few, many = make_campaign(2), make_campaign(40)
    for campaign in (few, many):
        for message in campaign.messages.order_by("id")[:2]:
            Redemption.objects.create(
                promotion_id=campaign.promotion_id,
                message=message,
                phone=message.phone,
                redeemed_at=clock.now(),
                redeemed_by="ana",
            )

    with CaptureQueriesContext(connection) as two:
        assert len(export(staff, few)) == 2
    everyone = many.messages.count()
    with CaptureQueriesContext(connection) as forty:
        assert len(export(staff, many)) == everyone

    assert len(two.captured_queries) == len(forty.captured_queries)
