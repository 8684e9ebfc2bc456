"""Segments: saved audiences defined by rules, which are data and never code (goteo.rules)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from goteo.models.contacts import Contact
from goteo.rules import RuleError, rules_query, validate_rules

if TYPE_CHECKING:
    from goteo.models.campaigns import Campaign


class Segment(models.Model):
    """An audience such as «un año sin examen» that campaigns name as ``segment:NOMBRE``."""

    name = models.CharField(_("nombre"), max_length=64, unique=True)
    rules = models.JSONField(_("reglas"), default=list, blank=True)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segmento")
        verbose_name_plural = _("segmentos")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.rules = validate_rules(self.rules)  # rules are checked whoever saves them
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse rules goteo does not know, naming which rule and what is wrong."""
        try:
            self.rules = validate_rules(self.rules)
        except RuleError as exc:
            raise ValidationError({"rules": str(exc)}) from exc

    def contacts(self, today: date) -> QuerySet[Contact]:
        """Who the rules name on ``today`` (relative dates count back from it)."""
        return Contact.objects.filter(rules_query(self.rules, today)).distinct()

    @property
    def audience_spec(self) -> str:
        """How a campaign names this segment as its audience."""
        return f"segment:{self.name}"

    def campaigns_using(self, name: str | None = None) -> QuerySet[Campaign]:
        """The campaigns and automations not yet over whose audience is this segment (as
        named ``name``, by default its saved name): renaming or deleting it would break them."""
        from goteo.models.campaigns import Campaign
        from goteo.models.lifecycle import CampaignStatus

        finished = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
        spec = f"segment:{name if name is not None else self.name}"
        return Campaign.objects.filter(audience=spec).exclude(status__in=finished).order_by("name")
