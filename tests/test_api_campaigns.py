"""/api/v1/campaigns/ and /api/v1/automations/: the same status as ``campaign_status --json``,
pause and resume with a 409 when they cannot, message results by pages, each only to the roles
that may see it, and never a provider's secret."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from goteo.models import Campaign, CampaignStatus, Message, Sender
from tests.api_calls import call, token_for
from tests.commands import call as command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned(monkeypatch, clock):
    monkeypatch.setattr("goteo.api.auth.clock", clock)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner():
    return token_for("optica", role="Dueño")


@pytest.fixture
def counter():
    return token_for("mostrador", role="Mostrador")


def automation(make_campaign, **fields) -> Campaign:
    return make_campaign(2, launch=False, trigger="birthday", **fields)


def test_the_list_has_only_one_off_campaigns_and_the_automations_list_the_rest(client, owner, make_campaign):
    first, second = make_campaign(2), make_campaign(3)
    birthday = automation(make_campaign)

    campaigns = call(client, "get", "campaigns/", owner).json()
    automations = call(client, "get", "automations/", owner).json()

    assert campaigns["count"] == 2
    assert [c["id"] for c in campaigns["items"]] == [second.pk, first.pk]
    assert campaigns["items"][0] | {"created_at": None, "started_at": None} == {
        "id": second.pk,
        "name": second.name,
        "status": "active",
        "status_label": "En progreso",
        "simulation": False,
        "created_at": None,
        "start_at": None,
        "started_at": None,
        "finished_at": None,
        "total": 5,  # every contact so far: the first campaign's two and its own three
        "sent": 0,
        "pending": 5,
        "failed": 0,
        "skipped": 0,
    }
    assert [a["id"] for a in automations["items"]] == [birthday.pk]


def test_a_status_has_the_keys_of_campaign_status_json(client, owner, make_campaign):
    campaign = make_campaign(4)

    response = call(client, "get", f"campaigns/{campaign.pk}/", owner)
    printed = json.loads(command("campaign_status", str(campaign.pk), "--json")[0])

    assert response.status_code == 200
    body = response.json()
    assert list(body) == list(printed)
    assert {k: body[k] for k in ("id", "name", "status", "total", "pending", "sent")} == {
        "id": campaign.pk,
        "name": campaign.name,
        "status": "active",
        "total": 4,
        "pending": 4,
        "sent": 0,
    }
    assert body["sender_risk"]["level"] == printed["sender_risk"]["level"]


def test_an_automation_has_its_status_under_its_own_path_only(client, owner, make_campaign):
    birthday = automation(make_campaign)
    one_off = make_campaign(1)

    assert call(client, "get", f"automations/{birthday.pk}/", owner).json()["id"] == birthday.pk
    wrong = call(client, "get", f"campaigns/{birthday.pk}/", owner)
    assert wrong.status_code == 404
    assert wrong.json() == {"detail": f"No hay ninguna campaña con el número {birthday.pk}."}
    assert call(client, "get", f"automations/{one_off.pk}/", owner).status_code == 404


def test_it_pauses_and_resumes_and_says_409_when_it_cannot(client, owner, make_campaign):
    campaign = make_campaign(2)

    paused = call(client, "post", f"campaigns/{campaign.pk}/pause/", owner)
    again = call(client, "post", f"campaigns/{campaign.pk}/pause/", owner)
    campaign.refresh_from_db()
    reason = campaign.pause_reason
    resumed = call(client, "post", f"campaigns/{campaign.pk}/resume/", owner)
    twice = call(client, "post", f"campaigns/{campaign.pk}/resume/", owner)

    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert reason.startswith("Pausada por api:optica (gt_")
    assert again.status_code == 409
    assert again.json() == {"detail": "Solo se puede pausar una campaña en progreso; esta está «Pausada»."}
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert resumed.json()["warnings"] == []
    assert twice.status_code == 409
    assert twice.json()["detail"] == "Solo se puede reanudar una campaña pausada; esta está «En progreso»."
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_an_automation_pauses_too(client, owner, make_campaign):
    birthday = automation(make_campaign)
    Campaign.objects.filter(pk=birthday.pk).update(status=CampaignStatus.ACTIVE)

    response = call(client, "post", f"automations/{birthday.pk}/pause/", owner)

    assert response.status_code == 200
    birthday.refresh_from_db()
    assert birthday.status == CampaignStatus.PAUSED


def test_the_counter_reads_campaigns_but_neither_steers_them_nor_sees_peoples_data(
    client, counter, make_campaign
):
    campaign = make_campaign(2)
    phones = list(campaign.messages.values_list("phone", flat=True))

    status = call(client, "get", f"campaigns/{campaign.pk}/", counter)
    listing = call(client, "get", "campaigns/", counter)
    pause = call(client, "post", f"campaigns/{campaign.pk}/pause/", counter)
    messages = call(client, "get", f"campaigns/{campaign.pk}/messages/", counter)

    assert (status.status_code, listing.status_code) == (200, 200)
    assert pause.status_code == 403
    assert pause.json() == {"detail": "Su usuario no tiene permiso para pausar ni reanudar campañas."}
    assert messages.status_code == 403
    assert messages.json() == {"detail": "Su usuario no tiene permiso para ver los datos de los contactos."}
    for response in (status, listing, pause, messages):
        text = response.content.decode()
        assert not any(phone in text for phone in phones)
        assert "Persona" not in text
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_an_account_without_a_role_reads_nothing(client, make_campaign):
    campaign = make_campaign(1)
    token = token_for("sinrol", role="")

    assert call(client, "get", f"campaigns/{campaign.pk}/", token).status_code == 403
    assert call(client, "get", "campaigns/", token).status_code == 403


def test_message_results_come_by_pages(client, owner, make_campaign):
    campaign = make_campaign(120)
    first = campaign.messages.order_by("id").first()
    Message.objects.filter(pk=first.pk).update(code="PROMO1-ABC")

    page1 = call(client, "get", f"campaigns/{campaign.pk}/messages/", owner).json()
    page3 = call(client, "get", f"campaigns/{campaign.pk}/messages/?page=3", owner).json()
    small = call(client, "get", f"campaigns/{campaign.pk}/messages/?page=2&page_size=10", owner).json()

    assert page1["count"] == page3["count"] == 120
    assert len(page1["items"]) == 50 and len(page3["items"]) == 20
    assert page1["items"][0] == {
        "id": first.pk,
        "name": first.contact_name,
        "phone": first.phone,
        "status": "pending",
        "status_label": "Pendiente",
        "skip_reason": "",
        "skip_reason_label": "",
        "code": "PROMO1-ABC",
        "occurrence": "",
        "created_at": page1["items"][0]["created_at"],
        "sent_at": None,
        "delivered_at": None,
        "read_at": None,
        "replied_at": None,
    }
    ids = [m["id"] for m in page1["items"]] + [m["id"] for m in page3["items"]]
    assert len(set(ids)) == 70
    assert [m["id"] for m in small["items"]] == [m["id"] for m in page1["items"][10:20]]


@pytest.mark.parametrize("query", ["page=0", "page=dos", "page_size=0"])
def test_a_bad_page_gets_a_400_naming_it(client, owner, make_campaign, query):
    campaign = make_campaign(1)

    response = call(client, "get", f"campaigns/{campaign.pk}/messages/?{query}", owner)

    assert response.status_code == 400
    field = query.split("=")[0]
    assert list(response.json()["errors"]) == [field]


def test_a_skipped_message_says_why_in_spanish(client, owner, make_campaign):
    campaign = make_campaign(2)
    target = campaign.messages.first()
    target.contact.opt_out("whatsapp", target.created_at)

    items = call(client, "get", f"campaigns/{campaign.pk}/messages/", owner).json()["items"]

    skipped = next(m for m in items if m["id"] == target.pk)
    assert (skipped["status"], skipped["skip_reason"], skipped["skip_reason_label"]) == (
        "skipped",
        "opted_out",
        "se dio de baja",
    )


SECRET = "EAAG-secreto-que-no-sale-9f8e7d"


def test_no_response_reveals_a_providers_secret(client, owner, make_campaign):
    sender = Sender.objects.create(
        name="principal", backend="memory", daily_cap=30, secrets={"token": SECRET, "app_secret": SECRET}
    )
    campaign = make_campaign(3, sender=sender)
    birthday = automation(make_campaign, sender=sender)
    phone = campaign.messages.first().phone
    paths = [
        ("get", "campaigns/"),
        ("get", f"campaigns/{campaign.pk}/"),
        ("get", f"campaigns/{campaign.pk}/messages/"),
        ("post", f"campaigns/{campaign.pk}/pause/"),
        ("post", f"campaigns/{campaign.pk}/resume/"),
        ("get", "automations/"),
        ("get", f"automations/{birthday.pk}/"),
        ("get", f"automations/{birthday.pk}/messages/"),
        ("get", f"contacts/{phone}/"),
        ("post", f"contacts/{phone}/opt-out/"),
        ("get", "openapi.json"),
        ("get", "docs"),
    ]

    bodies = [call(client, method, path, owner) for method, path in paths]

    assert [b.status_code for b in bodies] == [200] * len(paths)
    assert not [path for (_m, path), b in zip(paths, bodies, strict=True) if SECRET in b.content.decode()]
    assert Sender.objects.get(pk=sender.pk).secrets["token"] == SECRET
