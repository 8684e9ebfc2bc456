"""Webhook URLs as the providers really call them, and Twilio's signature with or without a port."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from goteo.models import Contact
from goteo.webhooks.signatures import twilio_signature, twilio_signature_ok
from tests.fakes import evolution as evo
from tests.fakes.records import evolution_sender, twilio_sender
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_environment")]

# twilio/twilio-python tests/unit/test_request_validator.py: its URL, form and signatures.
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}
SIGNED_WITHOUT_PORT = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
SIGNED_WITH_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="
SIGNED_HTTP_WITH_80 = "0ZXoZLH/DfblKGATFgpif+LLRf4="
SIGNED_HTTP_WITH_1234 = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (URI, SIGNED_WITHOUT_PORT),
        (URI.replace(".com", ".com:1234"), SIGNED_WITHOUT_PORT),  # the port removed
        (URI, SIGNED_WITH_443),  # the https port added
        (URI.replace("https", "http"), SIGNED_HTTP_WITH_80),  # the http port added
        (URI.replace(".com", ".com:1234").replace("https", "http"), SIGNED_HTTP_WITH_1234),
    ],
)
def test_it_accepts_twilios_test_vectors_with_and_without_the_port(url, signature):
    assert twilio_signature_ok(url, PARAMS, signature, "12345")


def test_it_still_refuses_a_signature_for_another_url_or_token():
    assert not twilio_signature_ok(URI.replace("myapp", "other"), PARAMS, SIGNED_WITH_443, "12345")
    assert not twilio_signature_ok(URI, PARAMS, SIGNED_WITH_443, "54321")


def test_a_proxy_that_adds_443_no_longer_gets_twilios_opt_outs_refused(client, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", "https://optica.example")
    campaign = make_campaign(1, sender=twilio_sender())
    phone = campaign.messages.get().phone
    form = {
        "MessageSid": "SMport",
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{phone}",
        "To": FROM,
        "Body": "BAJA",
    }
    # Twilio signed the address with the port the proxy in front of goteo shows.
    signature = twilio_signature(
        "https://optica.example:443/webhooks/twilio/inbound/", {k: [v] for k, v in form.items()}, AUTH_TOKEN
    )

    response = client.post(
        "/webhooks/twilio/inbound/",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 200
    assert Contact.objects.get(phone=phone).opted_out is True


@pytest.mark.parametrize(
    "path",
    [
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}/messages-upsert",  # URL without the trailing slash
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}/messages-upsert/",
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}//messages-upsert",  # URL as docs/providers.md gave it
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}",  # one URL for every event, no slash
        f"/webhooks/evolution/{evo.WEBHOOK_SECRET}/",
    ],
)
def test_evolution_events_arrive_at_every_form_of_the_url(client, make_campaign, path):
    campaign = make_campaign(1, sender=evolution_sender())
    phone = campaign.messages.get().phone

    response = client.post(path, data=json.dumps(evo.inbound(phone, "BAJA")), content_type="application/json")

    assert response.status_code == 200
    assert Contact.objects.get(phone=phone).opted_out is True


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/cloud",
        "/webhooks/twilio/inbound",
        "/webhooks/twilio/status/5b1f0c0e-1111-4000-8000-000000000000",
        "/webhooks/waha",
        "/webhooks/evolution/anything/messages-update",
    ],
)
def test_no_webhook_answers_a_post_with_a_redirect(client, path, settings):
    settings.APPEND_SLASH = True

    response = client.post(path, data="{}", content_type="application/json")

    assert response.status_code not in (301, 302, 307, 308, 404)
    assert response.status_code in (400, 403)  # reached the view, which checks the caller
