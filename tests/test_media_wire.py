"""A campaign's file on the wire, per provider, through the real transports and fakes."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from datetime import timedelta

import pytest

from goteo.clock import SimulatedClock
from goteo.media import attach_media, media_for
from goteo.media_limits import MB
from goteo.models import UploadedMedia
from goteo.transports import OutgoingMedia, OutgoingMessage, SendError
from goteo.transports.cloud import CloudTransport
from goteo.transports.console import ConsoleTransport
from goteo.transports.evolution import EvolutionTransport
from goteo.transports.file import FileTransport
from goteo.transports.memory import MemoryTransport
from goteo.transports.twilio import TwilioTransport
from goteo.transports.waha import WahaTransport
from tests.fakes import media_samples as samples
from tests.fakes.cloud import PHONE_NUMBER_ID, FakeCloudAPI, graph_error, multipart
from tests.fakes.evolution import INSTANCE, FakeEvolution
from tests.fakes.server import HANG, HTML_502
from tests.fakes.twilio import FakeTwilio, twilio_error
from tests.fakes.waha import FakeWaha

PUBLIC = "https://promos.mioptica.co"
CAPTION = "¡Hola María! 30% de descuento en monturas con el código LENTES30"
TEMPLATE = {"name": "promo_foto", "language": "es_CO", "params": ["name"]}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.delenv("GOTEO_PUBLIC_URL", raising=False)


@pytest.fixture
def picture(make_campaign) -> OutgoingMedia:
    return file_of(make_campaign, samples.jpeg(40_000), "Monturas Navidad.jpg")


def file_of(make_campaign, data: bytes, name: str) -> OutgoingMedia:
    campaign = make_campaign(1, launch=False)
    attach_media(campaign, io.BytesIO(data), name)
    found = media_for(campaign)
    assert found is not None
    return found


def message(media: OutgoingMedia | None, to: str = "+573001112233", template: dict | None = None):
    return OutgoingMessage(
        to=to,
        text=CAPTION,
        message_id="8c7a3f2e-5d1b-4e8a-9f0c-123456789abc",
        variables={"name": "María"},
        provider_template=template or {},
        media=media,
    )


# --- Cloud API ---------------------------------------------------------------------------
@pytest.fixture
def cloud():
    with FakeCloudAPI() as server:
        yield server


def cloud_transport(cloud, clock: SimulatedClock | None = None) -> CloudTransport:
    transport = CloudTransport(cloud.config(read_timeout=0.5))
    if clock is not None:
        transport.uploads.clock = clock
    return transport


@pytest.mark.django_db
def test_it_uploads_the_picture_to_the_cloud_api_then_sends_it_by_id_with_the_caption(cloud, picture):
    provider_id = cloud_transport(cloud).send(message(picture))

    upload, send = cloud.requests
    assert (upload.method, upload.path) == ("POST", f"/v25.0/{PHONE_NUMBER_ID}/media")
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = multipart(upload)
    assert parts["messaging_product"]["data"] == b"whatsapp"
    assert parts["type"]["data"] == b"image/jpeg"
    assert parts["file"]["filename"] == "Monturas Navidad.jpg"
    assert parts["file"]["content_type"] == "image/jpeg"
    assert parts["file"]["data"] == samples.jpeg(40_000)
    [media_id] = cloud.uploads
    assert send.path == f"/v25.0/{PHONE_NUMBER_ID}/messages"
    assert send.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+573001112233",
        "biz_opaque_callback_data": "8c7a3f2e-5d1b-4e8a-9f0c-123456789abc",
        "type": "image",
        "image": {"id": media_id, "caption": CAPTION},
    }
    assert provider_id == cloud.accepted[0]["id"]


@pytest.mark.django_db
def test_a_document_goes_by_id_with_its_file_name_and_a_video_as_video(cloud, make_campaign):
    document = file_of(make_campaign, samples.pdf(), "Lista de precios.pdf")
    video = file_of(make_campaign, samples.mp4(), "promo.mp4")
    transport = cloud_transport(cloud)

    transport.send(message(document))
    transport.send(message(video))

    sends = [r.json() for r in cloud.requests_to("POST", "/messages")]
    doc_id, video_id = (u for u in cloud.uploads)
    assert sends[0]["type"] == "document"
    assert sends[0]["document"] == {"id": doc_id, "caption": CAPTION, "filename": "Lista de precios.pdf"}
    assert sends[1]["type"] == "video"
    assert sends[1]["video"] == {"id": video_id, "caption": CAPTION}
    assert [u["mime"] for u in cloud.uploads.values()] == ["application/pdf", "video/mp4"]


@pytest.mark.django_db
def test_one_upload_serves_a_campaign_of_50(cloud, picture):
    transport = cloud_transport(cloud)

    for i in range(50):
        transport.send(message(picture, to=f"+57300{1000000 + i}"))

    assert len(cloud.requests_to("POST", "/media")) == 1
    sends = cloud.requests_to("POST", "/messages")
    [media_id] = cloud.uploads
    assert len(sends) == 50
    assert {r.json()["image"]["id"] for r in sends} == {media_id}
    assert len(cloud.accepted) == 50


@pytest.mark.django_db
def test_the_kept_id_serves_a_later_run_on_the_same_number(cloud, picture):
    cloud_transport(cloud).send(message(picture))
    later = cloud_transport(cloud)  # a new worker run: a new transport, the id from the database

    later.send(message(picture, to="+573009998877"))

    assert len(cloud.requests_to("POST", "/media")) == 1
    assert UploadedMedia.objects.get().account == PHONE_NUMBER_ID


@pytest.mark.django_db
def test_an_id_older_than_meta_keeps_it_is_uploaded_again(cloud, picture, clock):
    transport = cloud_transport(cloud, clock)
    transport.send(message(picture))
    first = UploadedMedia.objects.get().provider_id

    clock.advance(days=28)
    transport.send(message(picture))
    assert len(cloud.requests_to("POST", "/media")) == 1  # still within Meta's 30 days
    clock.advance(days=3)
    transport.send(message(picture))

    assert len(cloud.requests_to("POST", "/media")) == 2
    kept = UploadedMedia.objects.get()
    assert kept.provider_id != first
    assert kept.uploaded_at == clock.now()
    assert cloud.requests_to("POST", "/messages")[-1].json()["image"]["id"] == kept.provider_id


@pytest.mark.django_db
def test_an_id_meta_no_longer_knows_is_uploaded_again_and_the_message_resent_once(cloud, picture):
    transport = cloud_transport(cloud)
    transport.send(message(picture))
    cloud.uploads.clear()  # Meta dropped it: the next send is refused naming the media id

    provider_id = transport.send(message(picture, to="+573009998877"))

    paths = [r.path.rsplit("/", 1)[1] for r in cloud.requests]
    assert paths == ["media", "messages", "messages", "media", "messages"]
    [new_id] = cloud.uploads
    assert cloud.requests[-1].json()["image"]["id"] == new_id
    assert UploadedMedia.objects.get().provider_id == new_id
    assert provider_id == cloud.accepted[-1]["id"]
    assert [a["to"] for a in cloud.accepted] == ["+573001112233", "+573009998877"]


@pytest.mark.django_db
def test_a_media_upload_error_on_the_send_uploads_again_and_resends(cloud, picture):
    transport = cloud_transport(cloud)
    cloud.fail_next(graph_error(131053, "Media upload error"), when=lambda r: r.path.endswith("/messages"))

    transport.send(message(picture))

    assert [r.path.rsplit("/", 1)[1] for r in cloud.requests] == ["media", "messages", "media", "messages"]
    assert len(cloud.accepted) == 1


@pytest.mark.django_db
def test_a_second_refusal_of_the_file_pauses_the_campaign_instead_of_braking_the_number(cloud, picture):
    transport = cloud_transport(cloud)
    cloud.fail_next(
        graph_error(131053, "Media upload error"), times=2, when=lambda r: r.path.endswith("/messages")
    )

    with pytest.raises(SendError) as refused:
        transport.send(message(picture))

    assert refused.value.kind == SendError.PERMANENT
    assert refused.value.campaign_wide
    assert "«Monturas Navidad.jpg»" in refused.value.reason
    assert cloud.accepted == []
    assert len(cloud.requests_to("POST", "/messages")) == 2  # never a third try


@pytest.mark.django_db
def test_a_template_carries_the_picture_as_its_image_header(cloud, picture):
    cloud_transport(cloud).send(message(picture, template=TEMPLATE))

    [media_id] = cloud.uploads
    body = cloud.requests_to("POST", "/messages")[0].json()
    assert body["type"] == "template"
    assert body["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "María"}]},
    ]


@pytest.mark.django_db
def test_a_template_carries_a_pdf_as_its_document_header_with_the_file_name(cloud, make_campaign):
    document = file_of(make_campaign, samples.pdf(), "precios.pdf")

    cloud_transport(cloud).send(message(document, template={"name": "promo_pdf", "language": "es"}))

    [media_id] = cloud.uploads
    components = cloud.requests_to("POST", "/messages")[0].json()["template"]["components"]
    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "document", "document": {"id": media_id, "filename": "precios.pdf"}}],
        }
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("failure", [HTML_502, HANG, graph_error(130429, "Rate limit hit", status=429)])
def test_an_upload_that_fails_for_a_passing_reason_is_retried_and_nothing_is_sent(cloud, picture, failure):
    cloud.fail_next(failure, when=lambda r: r.path.endswith("/media"))

    with pytest.raises(SendError) as failed:
        cloud_transport(cloud).send(message(picture))

    assert failed.value.kind == SendError.RETRY
    assert not failed.value.campaign_wide
    assert cloud.requests_to("POST", "/messages") == []
    assert not UploadedMedia.objects.exists()


@pytest.mark.django_db
def test_an_upload_meta_refuses_pauses_the_campaign(cloud, picture):
    cloud.fail_next(
        graph_error(131053, "Media upload error: unsupported image"), when=lambda r: r.path.endswith("/media")
    )

    with pytest.raises(SendError) as refused:
        cloud_transport(cloud).send(message(picture))

    assert (refused.value.kind, refused.value.campaign_wide) == (SendError.PERMANENT, True)
    assert "unsupported image" in refused.value.reason
    assert cloud.requests_to("POST", "/messages") == []


@pytest.mark.django_db
def test_a_picture_over_the_limit_is_refused_for_the_campaign_before_any_request(cloud, picture):
    too_large = dataclasses.replace(picture, size=6 * MB)

    with pytest.raises(SendError) as refused:
        cloud_transport(cloud).send(message(too_large))

    assert refused.value.campaign_wide
    assert refused.value.reason == "La imagen pesa 6 MB; WhatsApp acepta hasta 5 MB por imagen."
    assert cloud.requests == []


# --- Twilio ------------------------------------------------------------------------------
@pytest.fixture
def twilio():
    with FakeTwilio() as server:
        yield server


@pytest.mark.django_db
def test_twilio_gets_the_public_url_as_media_url_and_the_text_as_body(twilio, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    picture = file_of(make_campaign, samples.jpeg(), "monturas.jpg")

    TwilioTransport(twilio.config()).send(message(picture))

    [created] = twilio.created
    assert created["MediaUrl"] == picture.url
    assert created["MediaUrl"].startswith(f"{PUBLIC}/m/{picture.key}/")
    assert created["Body"] == CAPTION


@pytest.mark.django_db
def test_twilio_without_a_public_url_refuses_the_campaign_and_sends_nothing(twilio, picture):
    with pytest.raises(SendError) as refused:
        TwilioTransport(twilio.config()).send(message(picture))

    assert (refused.value.kind, refused.value.campaign_wide) == (SendError.PERMANENT, True)
    assert "GOTEO_PUBLIC_URL" in refused.value.reason
    assert twilio.requests == []


@pytest.mark.django_db
def test_twilio_refusing_the_file_size_pauses_the_campaign(twilio, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    picture = file_of(make_campaign, samples.jpeg(), "monturas.jpg")
    twilio.fail_next(twilio_error(11751, "Media exceeds messaging provider size limit"))

    with pytest.raises(SendError) as refused:
        TwilioTransport(twilio.config()).send(message(picture))

    assert (refused.value.code, refused.value.campaign_wide) == ("11751", True)


# --- Evolution API -----------------------------------------------------------------------
@pytest.fixture
def evolution():
    with FakeEvolution() as server:
        yield server


@pytest.mark.django_db
def test_evolution_gets_send_media_with_the_file_as_base64_without_a_public_url(evolution, make_campaign):
    document = file_of(make_campaign, samples.pdf(), "Lista de precios.pdf")

    provider_id = EvolutionTransport(evolution.config(typing=False)).send(message(document))

    [request] = evolution.requests
    assert request.path == f"/message/sendMedia/{INSTANCE}"
    assert request.json() == {
        "number": "573001112233",
        "mediatype": "document",
        "mimetype": "application/pdf",
        "caption": CAPTION,
        "fileName": "Lista de precios.pdf",
        "media": base64.b64encode(samples.pdf()).decode(),
    }
    assert provider_id == evolution.sent[0]["id"]


@pytest.mark.django_db
def test_evolution_gets_the_public_url_when_there_is_one(evolution, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    picture = file_of(make_campaign, samples.jpeg(), "monturas.jpg")

    EvolutionTransport(evolution.config()).send(message(picture))

    body = evolution.requests[0].json()
    assert (body["mediatype"], body["mimetype"], body["media"]) == ("image", "image/jpeg", picture.url)
    assert body["delay"] > 0  # still "typing" first


# --- WAHA --------------------------------------------------------------------------------
@pytest.fixture
def waha():
    with FakeWaha() as server:
        yield server


def waha_transport(waha) -> WahaTransport:
    transport = WahaTransport(waha.config(typing=False, check_exists=False, learn_lids=False))
    return transport


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "endpoint", "mime"),
    [
        (samples.jpeg(), "monturas.jpg", "/api/sendImage", "image/jpeg"),
        (samples.pdf(), "precios.pdf", "/api/sendFile", "application/pdf"),
        (samples.mp4(), "promo.mp4", "/api/sendVideo", "video/mp4"),
    ],
)
def test_waha_gets_each_kind_at_its_endpoint_with_the_file_as_data(
    waha, make_campaign, data, name, endpoint, mime
):
    media = file_of(make_campaign, data, name)

    waha_transport(waha).send(message(media))

    [request] = waha.requests
    assert request.path == endpoint
    assert request.json() == {
        "session": "default",
        "chatId": "573001112233@c.us",
        "file": {"mimetype": mime, "filename": name, "data": base64.b64encode(data).decode()},
        "caption": CAPTION,
    }


@pytest.mark.django_db
def test_waha_gets_the_public_url_when_there_is_one(waha, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    picture = file_of(make_campaign, samples.jpeg(), "monturas.jpg")

    waha_transport(waha).send(message(picture))

    assert waha.requests[0].json()["file"] == {
        "mimetype": "image/jpeg",
        "filename": "monturas.jpg",
        "url": picture.url,
    }


@pytest.mark.django_db
def test_waha_core_refusing_files_pauses_the_campaign_rather_than_the_number(waha, picture):
    waha.plus = False

    with pytest.raises(SendError) as refused:
        waha_transport(waha).send(message(picture))

    assert (refused.value.kind, refused.value.campaign_wide) == (SendError.PERMANENT, True)
    assert "WAHA Plus" in refused.value.reason


# --- console, file and memory -------------------------------------------------------------
@pytest.mark.django_db
def test_the_console_shows_the_files_name_and_type_above_the_caption(picture):
    stream = io.StringIO()

    ConsoleTransport({"stream": stream}).send(message(picture))

    lines = stream.getvalue().splitlines()
    assert lines[1] == "[imagen: Monturas Navidad.jpg (image/jpeg, 39 KB)]"
    assert lines[2] == CAPTION


@pytest.mark.django_db
def test_the_file_backend_line_carries_a_media_object(picture, tmp_path):
    outbox = tmp_path / "outbox.jsonl"

    FileTransport({"path": str(outbox)}).send(message(picture))

    line = json.loads(outbox.read_text(encoding="utf-8"))
    assert line["text"] == CAPTION
    assert line["media"] == {
        "kind": "image",
        "mime": "image/jpeg",
        "file_name": "Monturas Navidad.jpg",
        "size": 40_000,
        "path": picture.path,
        "url": "",
    }


@pytest.mark.django_db
def test_a_text_line_in_the_file_backend_has_no_media(tmp_path):
    outbox = tmp_path / "outbox.jsonl"

    FileTransport({"path": str(outbox)}).send(message(None))

    assert "media" not in json.loads(outbox.read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_the_memory_transport_records_the_file(picture):
    MemoryTransport().send(message(picture))

    [sent] = MemoryTransport.outbox
    assert sent.media == picture


def test_the_kept_id_is_reused_only_within_meta_s_thirty_days(clock):
    kept = UploadedMedia(provider_id="1", account=PHONE_NUMBER_ID, uploaded_at=clock.now())

    assert kept.fresh(clock.now() + timedelta(days=28, hours=23))
    assert not kept.fresh(clock.now() + timedelta(days=29))
