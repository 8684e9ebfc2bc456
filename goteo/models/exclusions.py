"""Exclusion lists: numbers that must never receive a promotion, whoever they belong to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExcludedPhone(models.Model):
    """One number on a do-not-contact list, such as Colombia's Registro de Números Excluidos.

    Lists are kept apart from contacts, so re-importing contacts never brings a number
    back; every campaign, present and future, skips the numbers on any list.
    """

    phone = models.CharField(_("teléfono (E.164)"), max_length=20)
    list_name = models.CharField(_("lista"), max_length=64, default="general")
    source = models.CharField(_("origen"), max_length=200, blank=True)
    note = models.CharField(_("nota"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("añadido"))

    class Meta:
        ordering = ["list_name", "phone"]
        verbose_name = _("número excluido")
        verbose_name_plural = _("números excluidos")
        constraints = [
            models.UniqueConstraint(fields=["list_name", "phone"], name="goteo_excluded_once_per_list"),
        ]
        indexes = [models.Index(fields=["phone"], name="goteo_excluded_phone")]

    def __str__(self) -> str:
        return f"{self.phone} ({self.list_name})"

    @classmethod
    def is_excluded(cls, phone: str) -> bool:
        """True when ``phone`` is on any exclusion list."""
        return bool(phone) and cls.objects.filter(phone=phone).exists()
