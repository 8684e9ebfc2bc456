"""A campaign's file: checked by content and size per provider, stored, and served publicly."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.utils.translation import override

from goteo.media import attach_media, launch_problem, media_for, public_url
from goteo.media_limits import MB, MediaRejected
from goteo.models import CampaignMedia
from goteo.transports import ConfigurationError
from tests.fakes import media_samples as samples
from tests.fakes.records import cloud_sender, twilio_sender

PUBLIC = "https://promos.mioptica.co"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path, monkeypatch) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.delenv("GOTEO_PUBLIC_URL", raising=False)
    return settings.MEDIA_ROOT


def attach(campaign, data: bytes, name: str) -> CampaignMedia:
    return attach_media(campaign, io.BytesIO(data), name)


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_it_stores_a_picture_under_an_unguessable_name_and_keeps_what_the_shop_called_it(
    make_campaign, media_root
):
    campaign = make_campaign(1, launch=False)
    data = samples.jpeg(30_000)

    media = attach(campaign, data, "Monturas Navidad.jpeg")

    assert (media.kind, media.mime, media.size) == ("image", "image/jpeg", 30_000)
    assert media.original_name == "Monturas Navidad.jpeg"
    assert len(media.token) >= 32
    [stored] = stored_files(media_root)
    assert stored.name == media.token + ".jpg"  # nothing of the shop's name on disk
    assert stored.read_bytes() == data
    assert campaign.media == media


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "kind", "mime"),
    [
        (samples.png(), "lentes.png", "image", "image/png"),
        (samples.pdf(), "precios.pdf", "document", "application/pdf"),
        (samples.mp4(), "promo.mp4", "video", "video/mp4"),
        (samples.png(), "foto.jpg", "image", "image/png"),  # a PNG named .jpg is still an image
        (samples.pdf(), "precios", "document", "application/pdf"),  # no extension: the content says
    ],
)
def test_it_reads_the_type_from_the_content(make_campaign, data, name, kind, mime):
    media = attach(make_campaign(1, launch=False), data, name)

    assert (media.kind, media.mime) == (kind, mime)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"hola, esto es texto", "oferta.jpg", "«oferta.jpg» no es una imagen JPEG o PNG, un documento PDF"),
        (samples.jpeg(), "precios.pdf", "«precios.pdf» se llama .pdf pero su contenido es una imagen JPEG."),
        (samples.pdf(), "video.mp4", "«video.mp4» se llama .mp4 pero su contenido es un documento PDF."),
        (samples.quicktime(), "promo.mov", "«promo.mov» no es una imagen JPEG o PNG"),
        (b"GIF89a\x01\x00", "animado.gif", "WhatsApp solo recibe esos tipos en una campaña."),
    ],
)
def test_it_refuses_a_type_by_content_and_stores_nothing(make_campaign, media_root, data, name, message):
    campaign = make_campaign(1, launch=False)

    with pytest.raises(MediaRejected) as refused:
        attach(campaign, data, name)

    assert message in str(refused.value)
    assert not CampaignMedia.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_it_refuses_an_image_over_whatsapps_limit_naming_the_limit(make_campaign):
    campaign = make_campaign(1, launch=False, sender=cloud_sender())

    with pytest.raises(MediaRejected) as refused:
        attach(campaign, samples.jpeg(int(7.2 * MB)), "grande.jpg")

    assert str(refused.value) == "La imagen pesa 7,2 MB; WhatsApp acepta hasta 5 MB por imagen."


@pytest.mark.django_db
def test_the_limit_reads_in_english_on_an_english_page(make_campaign):
    campaign = make_campaign(1, launch=False, sender=cloud_sender())

    with override("en"), pytest.raises(MediaRejected) as refused:
        attach(campaign, samples.jpeg(int(7.2 * MB)), "grande.jpg")

    assert str(refused.value) == "The image weighs 7.2 MB; WhatsApp takes up to 5 MB per image."


@pytest.mark.django_db
def test_it_takes_an_image_of_exactly_the_limit(make_campaign):
    campaign = make_campaign(1, launch=False, sender=cloud_sender())

    assert attach(campaign, samples.jpeg(5 * MB), "justa.jpg").size == 5 * MB


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sender", "data", "name", "message"),
    [
        (
            cloud_sender,
            samples.mp4(17 * MB),
            "v.mp4",
            "El video pesa 17 MB; WhatsApp acepta hasta 16 MB por video.",
        ),
        (
            twilio_sender,
            samples.pdf(17 * MB),
            "p.pdf",
            "El documento pesa 17 MB; Twilio acepta hasta 16 MB por documento.",
        ),
    ],
)
def test_it_refuses_video_and_documents_over_each_providers_limit(make_campaign, sender, data, name, message):
    campaign = make_campaign(1, launch=False, sender=sender())

    with pytest.raises(MediaRejected) as refused:
        attach(campaign, data, name)

    assert str(refused.value) == message


@pytest.mark.django_db
def test_it_takes_a_17_mb_pdf_on_the_cloud_api_whose_documents_go_to_100_mb(make_campaign):
    campaign = make_campaign(1, launch=False, sender=cloud_sender())

    assert attach(campaign, samples.pdf(17 * MB), "catalogo.pdf").kind == "document"


@pytest.mark.django_db
def test_a_new_file_replaces_the_old_one(make_campaign, media_root):
    campaign = make_campaign(1, launch=False)
    old = attach(campaign, samples.jpeg(), "a.jpg")

    new = attach(campaign, samples.pdf(), "b.pdf")

    assert list(CampaignMedia.objects.values_list("token", flat=True)) == [new.token]
    assert [p.name for p in stored_files(media_root)] == [new.token + ".pdf"]
    assert new.token != old.token


@pytest.mark.django_db
def test_the_public_url_needs_goteo_public_url(make_campaign):
    media = attach(make_campaign(1, launch=False), samples.jpeg(), "monturas.jpg")

    with pytest.raises(ConfigurationError) as missing:
        public_url(media)

    assert "GOTEO_PUBLIC_URL" in str(missing.value)
    assert "«monturas.jpg»" in str(missing.value)


@pytest.mark.django_db
def test_the_public_url_carries_the_token_and_the_file_name(make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC + "/")
    media = attach(make_campaign(1, launch=False), samples.jpeg(), "Monturas Navidad.jpg")

    assert public_url(media) == f"{PUBLIC}/m/{media.token}/Monturas_Navidad.jpg"


@pytest.mark.django_db
def test_it_serves_the_file_without_sign_in_with_its_content_type(client, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    data = samples.pdf(5000)
    media = attach(make_campaign(1, launch=False), data, "Lista de precios.pdf")
    path = public_url(media).removeprefix(PUBLIC)

    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == "5000"
    assert response["Content-Disposition"] == 'inline; filename="Lista_de_precios.pdf"'
    assert b"".join(response.streaming_content) == data
    assert client.head(path).status_code == 200  # Twilio checks the type with HEAD too
    assert client.post(path).status_code == 405


@pytest.mark.django_db
def test_it_answers_404_to_any_other_token_or_name(client, make_campaign, monkeypatch):
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    media = attach(make_campaign(1, launch=False), samples.jpeg(), "monturas.jpg")

    assert client.get(f"/m/{media.token[:-1]}x/monturas.jpg").status_code == 404
    assert client.get(f"/m/{media.token}/otra.jpg").status_code == 404
    assert client.get(f"/m/{media.token}/monturas.jpg").status_code == 200


@pytest.mark.django_db
def test_it_answers_404_when_the_stored_file_is_gone(client, make_campaign, media_root):
    media = attach(make_campaign(1, launch=False), samples.jpeg(), "monturas.jpg")
    for stored in stored_files(media_root):
        stored.unlink()

    assert client.get(f"/m/{media.token}/monturas.jpg").status_code == 404


@pytest.mark.django_db
def test_media_for_gives_the_transports_the_file_and_its_address(make_campaign, monkeypatch):
    campaign = make_campaign(1, launch=False)
    assert media_for(campaign) is None
    media = attach(campaign, samples.png(), "lentes.png")

    without_url = media_for(campaign)
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    with_url = media_for(campaign)

    assert without_url is not None and with_url is not None
    assert (without_url.kind, without_url.mime, without_url.file_name) == ("image", "image/png", "lentes.png")
    assert (without_url.campaign_id, without_url.key, without_url.url) == (campaign.pk, media.token, "")
    assert without_url.read() == samples.png()
    assert with_url.url == f"{PUBLIC}/m/{media.token}/lentes.png"


@pytest.mark.django_db
def test_a_twilio_campaign_with_a_file_cannot_start_without_a_public_url(make_campaign, monkeypatch):
    campaign = make_campaign(1, launch=False, sender=twilio_sender())
    attach(campaign, samples.jpeg(), "monturas.jpg")

    assert "GOTEO_PUBLIC_URL" in launch_problem(campaign)
    monkeypatch.setenv("GOTEO_PUBLIC_URL", PUBLIC)
    assert launch_problem(campaign) == ""


@pytest.mark.django_db
def test_a_file_that_no_longer_fits_a_changed_number_stops_the_start(make_campaign):
    campaign = make_campaign(1, launch=False)  # the memory transport takes what the Cloud API takes
    attach(campaign, samples.pdf(20 * MB), "catalogo.pdf")
    campaign.sender = twilio_sender()
    campaign.save()

    assert launch_problem(campaign) == "El documento pesa 20 MB; Twilio acepta hasta 16 MB por documento."
