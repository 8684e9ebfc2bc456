"""Promotions used at the counter: who redeemed which code, when, and who served them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from goteo.models.campaigns import Campaign
from goteo.models.contacts import Contact
from goteo.models.messages import Message
from goteo.models.promotions import Promotion


class Redemption(models.Model):
    """One person used one promotion once: by their own code, or by phone with the shared one."""

    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("promoción")
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="redemptions"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="redemptions"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="redemptions"
    )
    phone = models.CharField(_("teléfono"), max_length=20)
    code = models.CharField(_("código"), max_length=40, blank=True)
    redeemed_at = models.DateTimeField(_("canjeado"))
    redeemed_by = models.CharField(_("atendido por"), max_length=150)
    # Set when staff redeemed an expired promotion anyway: their reason.
    override_reason = models.TextField(_("motivo para aceptarlo vencido"), blank=True)

    class Meta:
        ordering = ["-redeemed_at", "-id"]
        verbose_name = _("canje")
        verbose_name_plural = _("canjes")
        constraints = [
            models.UniqueConstraint(fields=["promotion", "phone"], name="goteo_redeemed_once"),
        ]
        indexes = [models.Index(fields=["campaign", "redeemed_at"], name="goteo_redeemed_day")]
        permissions = [("redeem_code", _("Puede canjear códigos en el mostrador"))]

    def __str__(self) -> str:
        return f"{self.promotion_id} {self.code or self.phone}"
