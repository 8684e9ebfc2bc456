"""A campaign's picture, PDF or video, and the copies uploaded to a provider."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from goteo.models.campaigns import Campaign

# Meta keeps an uploaded file 30 days ("Media IDs returned by the API expire after 30
# days", developers.facebook.com/docs/whatsapp/cloud-api/reference/media). goteo reuses an
# id one day less, so a campaign sending across the 30th day never meets an expired id.
MEDIA_ID_REUSE = timedelta(days=29)


class MediaKind(models.TextChoices):
    IMAGE = "image", _("imagen")
    DOCUMENT = "document", _("documento")
    VIDEO = "video", _("video")


class CampaignMedia(models.Model):
    """The file a campaign sends with its text as the caption: one per campaign.

    Stored through Django's storage under an unguessable name; ``token`` is also the
    secret part of its public address (goteo.media.public_url).
    """

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="media", verbose_name=_("campaña")
    )
    file = models.FileField(_("archivo"), upload_to="goteo/", max_length=300)
    token = models.CharField(_("clave"), max_length=64, unique=True, editable=False)
    original_name = models.CharField(_("nombre del archivo"), max_length=255)
    mime = models.CharField(_("tipo"), max_length=100)
    size = models.PositiveBigIntegerField(_("tamaño"))
    kind = models.CharField(_("clase"), max_length=16, choices=MediaKind.choices)
    created_at = models.DateTimeField(_("subido"), auto_now_add=True)

    class Meta:
        verbose_name = _("archivo de la campaña")
        verbose_name_plural = _("archivos de las campañas")

    def __str__(self) -> str:
        return self.original_name


class UploadedMedia(models.Model):
    """A provider's id for a campaign's file: the Cloud API sends by id, uploaded once.

    ``account`` is the provider's account the id belongs to (a Cloud API phone number id).
    """

    media = models.ForeignKey(
        CampaignMedia, on_delete=models.CASCADE, related_name="uploads", verbose_name=_("archivo")
    )
    account = models.CharField(_("cuenta"), max_length=64)
    provider_id = models.CharField(_("id en el proveedor"), max_length=200)
    uploaded_at = models.DateTimeField(_("subido"))

    class Meta:
        verbose_name = _("archivo subido al proveedor")
        verbose_name_plural = _("archivos subidos al proveedor")
        constraints = [
            models.UniqueConstraint(fields=["media", "account"], name="goteo_uploaded_media_once"),
        ]

    def __str__(self) -> str:
        return self.provider_id

    def fresh(self, now: datetime) -> bool:
        """Whether the provider still keeps this id at ``now``."""
        return now - self.uploaded_at < MEDIA_ID_REUSE
