"""Webhook endpoints: check who is calling, read the events, hand them to ``goteo.receipts``.

CSRF does not apply (providers cannot send a token); each view checks the provider's own
signature or secret instead, and answers 403 without changing anything when it fails.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from goteo import receipts
from goteo.transports.config import senders_using
from goteo.transports.twilio import public_url
from goteo.webhooks import events, gateway_events, signatures

log = logging.getLogger(__name__)

REFUSED = "firma o secreto inválido"


def configured(backend: str, key: str) -> list[str]:
    """The values of ``key`` across the senders on ``backend`` (secrets, tokens)."""
    return [str(config[key]) for _sender, config in senders_using(backend) if config.get(key)]


def read_json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None


def accept(found: list[events.Event], backend: str) -> HttpResponse:
    # Replies (an opt-out's confirmation) are queued here and sent by the worker.
    receipts.handle_events(found, backend, timezone.now())
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def cloud(request: HttpRequest) -> HttpResponse:
    """Meta: the GET verification handshake, and signed POSTs with statuses and messages."""
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        subscribing = request.GET.get("hub.mode") == "subscribe"
        if subscribing and signatures.secret_matches(token, configured("cloud", "verify_token")):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden("token de verificación inválido")
    header = request.headers.get("X-Hub-Signature-256", "")
    if not signatures.meta_signature_ok(request.body, header, configured("cloud", "app_secret")):
        log.warning("Meta webhook with a missing or wrong signature refused")
        return HttpResponseForbidden(REFUSED)
    payload = read_json(request)
    if payload is None:
        return HttpResponseBadRequest("JSON inválido")
    return accept(events.parse_meta(payload), "cloud")


def twilio_url(request: HttpRequest) -> str:
    """The URL Twilio called: GOTEO_PUBLIC_URL's (behind a proxy), else the request's.

    Twilio may have signed it with or without the port; ``twilio_signature_ok`` tries both.
    """
    base = public_url({})
    return base + request.get_full_path() if base else request.build_absolute_uri()


def twilio_verified(request: HttpRequest) -> bool:
    account = request.POST.get("AccountSid", "")
    tokens = [
        str(config["auth_token"])
        for _sender, config in senders_using("twilio")
        if config.get("account_sid") == account
    ]
    header = request.headers.get("X-Twilio-Signature", "")
    params = {name: request.POST.getlist(name) for name in request.POST}
    url = twilio_url(request)
    return any(signatures.twilio_signature_ok(url, params, header, token) for token in tokens)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, message_id: uuid.UUID | str) -> HttpResponse:
    """Twilio's StatusCallback for one message (our uuid is in the URL)."""
    if not twilio_verified(request):
        log.warning("Twilio status callback with a missing or wrong signature refused")
        return HttpResponseForbidden(REFUSED)
    form = {name: request.POST.get(name, "") for name in request.POST}
    return accept(events.parse_twilio_status(form, str(message_id)), "twilio")


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """A message to our Twilio number; answers an empty TwiML."""
    if not twilio_verified(request):
        log.warning("Twilio inbound webhook with a missing or wrong signature refused")
        return HttpResponseForbidden(REFUSED)
    form = {name: request.POST.get(name, "") for name in request.POST}
    receipts.handle_events(events.parse_twilio_inbound(form), "twilio", timezone.now())
    # An empty answer: the confirmation of an opt-out is queued and sent by the worker,
    # within the number's pacing and cap, once however often Twilio retries.
    twiml = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    return HttpResponse(twiml, content_type="application/xml")


@csrf_exempt
@require_POST
def evolution(request: HttpRequest, secret: str, event: str | None = None) -> HttpResponse:
    """Evolution API events; the secret in the URL is EVOLUTION_WEBHOOK_SECRET.

    With "webhook by events" Evolution appends the event's name to the URL
    (``…/SECRETO/messages-upsert``); the body names the event either way.
    """
    if not signatures.secret_matches(secret, configured("evolution", "webhook_secret")):
        log.warning("Evolution webhook with a wrong secret refused")
        return HttpResponseForbidden(REFUSED)
    payload = read_json(request)
    if payload is None:
        return HttpResponseBadRequest("JSON inválido")
    return accept(gateway_events.parse_evolution(payload), "evolution")


@csrf_exempt
@require_POST
def waha(request: HttpRequest) -> HttpResponse:
    """WAHA events, signed with ``X-Webhook-Hmac`` (WAHA_WEBHOOK_HMAC_KEY)."""
    header = request.headers.get("X-Webhook-Hmac", "")
    keys = configured("waha", "webhook_hmac_key")
    if not signatures.waha_hmac_ok(request.body, header, keys):
        log.warning("WAHA webhook with a missing or wrong HMAC refused")
        return HttpResponseForbidden(REFUSED)
    payload = read_json(request)
    if payload is None:
        return HttpResponseBadRequest("JSON inválido")
    return accept(gateway_events.parse_waha(payload), "waha")
