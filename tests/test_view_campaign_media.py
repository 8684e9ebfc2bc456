"""The wizard takes the campaign's picture: checked against the number's provider, then shown."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from goteo.models import Campaign, CampaignMedia
from tests.dashboard import page_text
from tests.fakes.media_samples import MB, jpeg, pdf
from tests.test_view_campaign_form import form_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_it_attaches_the_picture_and_shows_it_on_the_campaign_page(staff, patients, memory_sender):
    upload = SimpleUploadedFile("monturas.jpg", jpeg(), content_type="image/jpeg")
    data = form_data(memory_sender, action="save", media_file=upload)
    response = staff.post(reverse("goteo:campaign_new"), data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    media = CampaignMedia.objects.get(campaign=campaign)
    assert (media.original_name, media.mime, media.kind) == ("monturas.jpg", "image/jpeg", "image")
    page = staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])).content.decode()
    assert f'/m/{media.token}/monturas.jpg"' in page
    picture = staff.get(f"/m/{media.token}/monturas.jpg")
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    edit = staff.get(reverse("goteo:campaign_edit", args=[campaign.pk])).content.decode()
    assert 'id="media-preview"' in edit and f"/m/{media.token}/monturas.jpg" in edit


def test_it_names_a_document_instead_of_showing_it(staff, patients, memory_sender):
    upload = SimpleUploadedFile("precios.pdf", pdf(), content_type="application/pdf")
    staff.post(reverse("goteo:campaign_new"), form_data(memory_sender, action="save", media_file=upload))
    campaign = Campaign.objects.get()
    page = page_text(staff.get(reverse("goteo:campaign_detail", args=[campaign.pk])))
    assert "📄 precios.pdf" in page


def test_it_refuses_a_picture_over_the_limit_with_the_reason_and_keeps_nothing(
    staff,
    patients,
    memory_sender,
):
    upload = SimpleUploadedFile("grande.jpg", jpeg(6 * MB), content_type="image/jpeg")
    response = staff.post(
        reverse("goteo:campaign_new"), form_data(memory_sender, action="save", media_file=upload)
    )
    assert response.status_code == 200
    assert "5 MB" in page_text(response)
    assert not Campaign.objects.exists()
    assert not CampaignMedia.objects.exists()
