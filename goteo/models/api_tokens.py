"""API tokens: one person's key to /api/v1/, shown once and kept only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFIX_LENGTH = 8  # the start of a token, kept to tell tokens apart in a list


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A revocable token of one user; its rights are that user's role (goteo.roles)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("usuario"),
    )
    name = models.CharField(_("nombre"), max_length=100, blank=True)
    prefix = models.CharField(_("comienzo"), max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revocado"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("token de la API")
        verbose_name_plural = _("tokens de la API")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user: models.Model, name: str = "") -> tuple[ApiToken, str]:
        """A new token for ``user``: the row, and the token itself, which is never stored."""
        raw = "gt_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name[:100], prefix=raw[:PREFIX_LENGTH], key_hash=digest(raw)
        )
        return token, raw

    @classmethod
    def find(cls, raw: str) -> ApiToken | None:
        """The live token ``raw`` is, with its user, or None (unknown, revoked or inactive user)."""
        token = (
            cls.objects.select_related("user").filter(key_hash=digest(raw), revoked_at__isnull=True).first()
        )
        if token is None or not token.user.is_active:
            return None
        return token

    def revoke(self, now: datetime) -> None:
        """The token stops working at once; the row stays, to show when it was revoked."""
        if self.revoked_at is None:
            self.revoked_at = now
            self.save(update_fields=["revoked_at"])
