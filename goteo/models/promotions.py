"""Promotions: the offer a campaign announces."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Promotion(models.Model):
    """An offer such as NAVIDAD2026, "30% de descuento en Monturas", valid until a date."""

    name = models.CharField(_("nombre"), max_length=200)
    code = models.CharField(_("código"), max_length=64, unique=True)
    benefit = models.CharField(_("beneficio"), max_length=300)
    valid_until = models.DateField(_("válida hasta"))
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)

    class Meta:
        ordering = ["-valid_until", "code"]
        verbose_name = _("promoción")
        verbose_name_plural = _("promociones")

    def __str__(self) -> str:
        return f"{self.code} ({self.benefit})"
