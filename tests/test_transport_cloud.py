"""The Meta Cloud API transport against a fake Graph API on 127.0.0.1."""

from __future__ import annotations

import logging
from functools import partial

import pytest

from goteo.models import Sender
from goteo.transports import ConfigurationError, SendError, transport_for
from goteo.transports.cloud import CloudTransport, classify_error
from tests.fakes.cloud import ACCEPT_THEN_HANG, PHONE_NUMBER_ID, TOKEN, FakeCloudAPI, graph_error
from tests.fakes.server import DROP, HANG, HTML_502, Reply, refused_url
from tests.fakes.transport import outgoing as fake_outgoing
from tests.fakes.transport import running

TEMPLATE = {"name": "promo_optica", "language": "es_CO", "params": ["name", "code"]}
VARIABLES = {
    "name": "María",
    "full_name": "María Pérez",
    "code": "LENTES30",
    "benefit": "30% de descuento",
    "valid_until": "31/01/2026",
}


outgoing = partial(fake_outgoing, variables=VARIABLES, template=TEMPLATE)


api = running(FakeCloudAPI)


def transport(api, **extra) -> CloudTransport:
    return CloudTransport(api.config(**extra))


def test_it_sends_an_approved_template_with_parameters_in_placeholder_order(api):
    provider_id = transport(api).send(outgoing())

    [request] = api.requests
    assert request.method == "POST"
    assert request.path == f"/v25.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+573001112233",
        "biz_opaque_callback_data": "8c7a3f2e-5d1b-4e8a-9f0c-123456789abc",
        "type": "template",
        "template": {
            "name": "promo_optica",
            "language": {"code": "es_CO", "policy": "deterministic"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "María"},
                        {"type": "text", "text": "LENTES30"},
                    ],
                }
            ],
        },
    }
    assert provider_id == api.accepted[0]["id"]
    assert provider_id.startswith("wamid.")


def test_it_sends_free_text_when_the_campaign_has_no_template(api):
    transport(api).send(outgoing(template={}))

    body = api.requests[0].json()
    assert body["type"] == "text"
    assert body["text"] == {
        "preview_url": False,
        "body": "¡Hola María! 30% de descuento con el código LENTES30",
    }
    assert "template" not in body


def test_it_uses_the_configured_api_version(api):
    transport(api, api_version="23.0").send(outgoing())

    assert api.requests[0].path == f"/v23.0/{PHONE_NUMBER_ID}/messages"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (131026, SendError.PERMANENT),
        (130403, SendError.PERMANENT),
        (4, SendError.RETRY),
        (80007, SendError.RETRY),
        (130429, SendError.RETRY),
        (131000, SendError.RETRY),
        (131016, SendError.RETRY),
        (131057, SendError.RETRY),
        (131048, SendError.BRAKE),
        (131064, SendError.BRAKE),
        (368, SendError.BRAKE),
        (131031, SendError.BRAKE),
        (131042, SendError.BRAKE),
        (132000, SendError.BRAKE),
        (132001, SendError.BRAKE),
        (132015, SendError.BRAKE),
        (0, SendError.DISCONNECTED),
        (190, SendError.DISCONNECTED),
    ],
)
def test_it_classifies_each_meta_error_code(api, code, kind):
    api.by_phone["+573001112233"] = graph_error(code)

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == kind
    assert raised.value.code == str(code)
    assert "detalle" in raised.value.reason


def test_it_records_an_opt_out_when_the_person_stopped_marketing_messages(api):
    api.by_phone["+573001112233"] = graph_error(131050)

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == SendError.PERMANENT
    assert raised.value.opted_out is True


def test_it_retries_a_per_user_marketing_limit_no_sooner_than_a_day(api):
    api.by_phone["+573001112233"] = graph_error(131049)

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == SendError.RETRY
    assert raised.value.retry_after >= 24 * 3600


def test_it_delays_only_that_recipient_on_the_pair_rate_limit(api):
    api.by_phone["+573001112233"] = graph_error(131056)
    sender = transport(api)

    with pytest.raises(SendError) as raised:
        sender.send(outgoing())
    sender.send(outgoing(to="+573004445566"))

    assert raised.value.kind == SendError.RETRY
    assert 0 < raised.value.retry_after < 3600
    assert [a["to"] for a in api.accepted] == ["+573004445566"]


def test_it_reports_an_expired_token_as_disconnected(api):
    with pytest.raises(SendError) as raised:
        CloudTransport(api.config(token="wrong")).send(outgoing())

    assert raised.value.kind == SendError.DISCONNECTED
    assert raised.value.code == "190"


def test_it_marks_unknown_a_send_accepted_whose_answer_never_comes(api):
    api.by_phone["+573001112233"] = ACCEPT_THEN_HANG

    with pytest.raises(SendError) as raised:
        transport(api, read_timeout=0.3).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN
    assert [a["to"] for a in api.accepted] == ["+573001112233"]


def test_it_marks_unknown_a_read_timeout(api):
    api.fail_next(HANG)

    with pytest.raises(SendError) as raised:
        transport(api, read_timeout=0.3).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN


def test_it_waits_for_a_slow_answer_within_the_read_timeout(api):
    api.fail_next(
        Reply(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.SLOW"}]}, delay=0.3)
    )

    assert transport(api, read_timeout=2).send(outgoing()) == "wamid.SLOW"


def test_it_marks_unknown_an_html_5xx_page(api):
    api.fail_next(HTML_502)

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN
    assert raised.value.code == "http502"


def test_it_marks_unknown_a_5xx_even_with_a_graph_error_body(api):
    api.fail_next(graph_error(131000, status=500))

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN


def test_it_marks_unknown_a_connection_dropped_after_sending(api):
    api.fail_next(DROP)

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN
    assert len(api.requests) == 1


def test_it_retries_when_the_connection_is_refused_before_sending():
    config = {"token": TOKEN, "phone_number_id": PHONE_NUMBER_ID, "base_url": refused_url()}

    with pytest.raises(SendError) as raised:
        CloudTransport(config).send(outgoing())

    assert raised.value.kind == SendError.RETRY


def test_it_marks_unknown_an_accepted_answer_without_an_id(api):
    api.fail_next(Reply(200, {"messaging_product": "whatsapp"}))

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing())

    assert raised.value.kind == SendError.UNKNOWN


def test_it_stops_when_a_template_asks_for_an_unknown_placeholder(api):
    template = {"name": "promo", "language": "es", "params": ["name", "price"]}

    with pytest.raises(SendError) as raised:
        transport(api).send(outgoing(template=template))

    assert raised.value.kind == SendError.BRAKE
    assert "price" in raised.value.reason
    assert api.requests == []


def test_it_never_logs_the_token_or_the_full_phone(api, caplog):
    api.by_phone["+573001112233"] = graph_error(131026)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="goteo")

    with pytest.raises(SendError):
        transport(api).send(outgoing())

    assert TOKEN not in caplog.text
    assert "+573001112233" not in caplog.text
    assert "+57300****233" in caplog.text


# --- connection health ---------------------------------------------------------------------
def test_it_reports_a_connected_number_with_its_quality_and_limit(api):
    status = transport(api).check_connection()

    [request] = api.requests
    assert request.method == "GET"
    assert request.path == f"/v25.0/{PHONE_NUMBER_ID}"
    fields = request.query["fields"][0].split(",")
    assert {"status", "quality_rating", "health_status"} <= set(fields)
    assert "whatsapp_business_manager_messaging_limit" in fields
    assert status.connected is True
    assert status.extra["quality_rating"] == "GREEN"
    assert status.extra["messaging_limit"] == "TIER_250"
    assert status.extra["health_status"] == "AVAILABLE"
    assert "brake" not in status.extra


def test_it_reports_a_blocked_number_and_asks_for_a_brake(api):
    api.number["health_status"] = {
        "can_send_message": "BLOCKED",
        "entities": [
            {
                "entity_type": "WABA",
                "id": "1",
                "can_send_message": "BLOCKED",
                "errors": [
                    {
                        "error_code": 141002,
                        "error_description": "Message templates can only be sent if approved.",
                        "possible_solution": "Approve",
                    }
                ],
            }
        ],
    }

    status = transport(api).check_connection()

    assert status.connected is False
    assert "approved" in status.detail
    assert status.extra["brake"]


def test_it_asks_for_a_brake_when_quality_is_red(api):
    api.number["quality_rating"] = "RED"

    status = transport(api).check_connection()

    assert status.connected is False
    assert "ROJO" in status.extra["brake"]


def test_it_is_still_connected_when_limited(api):
    api.number["health_status"] = {
        "can_send_message": "LIMITED",
        "entities": [
            {
                "entity_type": "PHONE_NUMBER",
                "id": PHONE_NUMBER_ID,
                "can_send_message": "LIMITED",
                "additional_info": ["Your display name has not been approved yet."],
            }
        ],
    }

    status = transport(api).check_connection()

    assert status.connected is True
    assert "display name" in status.detail


def test_it_reports_a_number_that_is_not_connected(api):
    api.number["status"] = "PENDING"

    status = transport(api).check_connection()

    assert status.connected is False
    assert "pendiente de activar" in status.detail


def test_it_reports_a_rejected_token_as_not_connected(api):
    status = CloudTransport(api.config(token="expired")).check_connection()

    assert status.connected is False
    assert "190" in status.detail
    assert "expired" not in status.detail


def test_it_reports_an_unreachable_api_as_not_connected():
    config = {"token": TOKEN, "phone_number_id": PHONE_NUMBER_ID, "base_url": refused_url()}

    status = CloudTransport(config).check_connection()

    assert status.connected is False
    assert "127.0.0.1" in status.detail


# --- configuration -------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_reads_the_default_sender_from_the_environment(api, monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "cloud")
    monkeypatch.setenv("WHATSAPP_CLOUD_TOKEN", TOKEN)
    monkeypatch.setenv("WHATSAPP_CLOUD_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
    monkeypatch.setenv("WHATSAPP_CLOUD_API_VERSION", "v24.0")
    monkeypatch.setenv("WHATSAPP_CLOUD_BASE_URL", api.url)

    sent = transport_for(Sender.get_default()).send(outgoing())

    assert sent.startswith("wamid.")
    assert api.requests[0].path == f"/v24.0/{PHONE_NUMBER_ID}/messages"


@pytest.mark.django_db
def test_it_names_the_missing_variables_without_crashing(monkeypatch):
    monkeypatch.setenv("WHATSAPP_BACKEND", "cloud")
    monkeypatch.setenv("WHATSAPP_CLOUD_TOKEN", "secret-value-xyz")
    monkeypatch.delenv("WHATSAPP_CLOUD_PHONE_NUMBER_ID", raising=False)

    with pytest.raises(ConfigurationError) as raised:
        transport_for(Sender.get_default())

    assert "WHATSAPP_CLOUD_PHONE_NUMBER_ID" in str(raised.value)
    assert "WHATSAPP_CLOUD_TOKEN" not in str(raised.value)
    assert "secret-value-xyz" not in str(raised.value)


@pytest.mark.django_db
def test_it_builds_a_stored_sender_from_its_config_and_secrets(api):
    sender = Sender.objects.create(
        name="sede norte",
        backend="cloud",
        config={"phone_number_id": PHONE_NUMBER_ID, "base_url": api.url},
        secrets={"token": TOKEN},
    )

    transport_for(sender).send(outgoing())

    assert api.requests[0].path == f"/v25.0/{PHONE_NUMBER_ID}/messages"
    assert api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.django_db
def test_it_says_what_a_stored_sender_lacks():
    sender = Sender.objects.create(name="sede sur", backend="cloud", config={})

    with pytest.raises(ConfigurationError) as raised:
        transport_for(sender)

    assert "sede sur" in str(raised.value)
    assert "token" in str(raised.value)


def test_it_classifies_codes_without_a_server():
    assert classify_error(131026, "x").kind == SendError.PERMANENT
    assert classify_error(250, "x").kind == SendError.DISCONNECTED
    assert classify_error(999999, "x").kind == SendError.RETRY
    assert classify_error(None, "x").kind == SendError.RETRY


def test_it_says_metas_codes_in_the_shops_words():
    from goteo.transports.cloud import QUALITY_WORDS, in_words, limit_in_words

    assert [limit_in_words(t) for t in ("TIER_250", "TIER_1K", "TIER_UNLIMITED", "")] == [
        "250 personas al día",
        "1.000 personas al día",
        "sin límite",
        "?",
    ]
    assert (in_words(QUALITY_WORDS, "YELLOW"), in_words(QUALITY_WORDS, "PURPLE")) == ("media", "PURPLE")
