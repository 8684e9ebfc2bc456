"""The Django admin is the fallback: every goteo model is registered and its pages load."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.dashboard import make_user, page_text

MODELS = list(apps.get_app_config("goteo").get_models())


def test_it_registers_every_model():
    missing = [model.__name__ for model in MODELS if not admin.site.is_registered(model)]

    assert missing == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_it_opens_each_changelist(client, make_campaign, model):
    make_campaign(3)
    client.force_login(make_user("root", superuser=True))

    response = client.get(reverse(f"admin:goteo_{model._meta.model_name}_changelist"))

    assert response.status_code == 200


def test_it_never_shows_a_senders_secrets(client, db):
    from goteo.models import Sender

    sender = Sender.objects.create(name="tienda", backend="cloud", secrets={"token": "EAAG-no-mostrar"})
    client.force_login(make_user("root", superuser=True))

    page = client.get(reverse("admin:goteo_sender_change", args=[sender.pk])).content.decode()

    assert "EAAG-no-mostrar" not in page


def test_it_pauses_campaigns_with_the_models_verb(client, make_campaign):
    from goteo.models import Campaign, CampaignStatus

    campaign = make_campaign(2)
    client.force_login(make_user("root", superuser=True))

    client.post(
        reverse("admin:goteo_campaign_changelist"),
        {"action": "pause", "_selected_action": [campaign.pk]},
    )

    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == CampaignStatus.PAUSED
    assert campaign.pause_reason == "Pausada por root desde la administración"


def test_it_keeps_messages_read_only(client, make_campaign):
    campaign = make_campaign(1)
    message = campaign.messages.get()
    client.force_login(make_user("root", superuser=True))

    client.post(reverse("admin:goteo_message_delete", args=[message.pk]), {"post": "yes"})

    assert campaign.messages.count() == 1


def test_it_carries_goteos_name_and_every_table_in_spanish(client, db):
    client.force_login(make_user("root", superuser=True))

    text = page_text(client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="es"))

    assert "goteo · administración" in text and "Django" not in text
    for model in MODELS:
        plural = str(model._meta.verbose_name_plural)
        assert plural[0].upper() + plural[1:] in text
    assert "Cupos diarios usados" in text and "Procesos de envío automático" in text
    assert "worker" not in text.lower() and "Daily counters" not in text
