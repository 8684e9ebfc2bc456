"""Promotions: the offer a campaign announces."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from goteo.content import rerender_pending
from goteo.models.lifecycle import CampaignStatus

if TYPE_CHECKING:
    from goteo.models.campaigns import Campaign

# The fields a campaign's command or form may give for a promotion, in the order they are shown.
EDITABLE_FIELDS = ("name", "benefit", "valid_until")
FIELD_LABELS = {"name": _("nombre"), "benefit": _("beneficio"), "valid_until": _("válida hasta")}


def shown(value: Any) -> str:
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return f"«{value}»"


class Promotion(models.Model):
    """An offer such as NAVIDAD2026, "30% de descuento en Monturas", valid until a date.

    Several campaigns may share one promotion, so changing it changes what all of them send
    and until when: ``differences`` says what a change would be, ``revise`` makes it.
    """

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

    def differences(self, **wanted: Any) -> list[str]:
        """What ``wanted`` would change, in Spanish: ``válida hasta: 31/12/2026 → 01/01/2025``.

        Empty values (a field not given) change nothing.
        """
        changes = []
        for field in EDITABLE_FIELDS:
            new = wanted.get(field)
            old = getattr(self, field)
            if new not in (None, "") and new != old:
                changes.append(f"{FIELD_LABELS[field]}: {shown(old)} → {shown(new)}")
        return changes

    def campaigns_described(self) -> str:
        """The campaigns that use this promotion, e.g. ``«Navidad» (#3, En progreso)``."""
        campaigns: list[Campaign] = list(self.campaigns.order_by("id"))
        if not campaigns:
            return str(_("ninguna campaña"))
        return ", ".join(f"«{c.name}» (#{c.pk}, {c.get_status_display()})" for c in campaigns)

    def revise(self, now: datetime, actor: str, **wanted: Any) -> int:
        """Change the promotion for every campaign that uses it; returns messages put back in line.

        The change applies to every message not yet sent: the pending messages' text is
        written again with the new words, each person keeping their variation (goteo.content),
        and template sends read the promotion when they go out. When the valid-until day moves
        later, the messages its campaigns skipped because it had expired, and that were never
        sent, wait to be sent again (``restore_expired``), with the new text too.
        """
        with transaction.atomic():
            before, words = self.valid_until, self.words()
            for field in EDITABLE_FIELDS:
                if wanted.get(field) not in (None, ""):
                    setattr(self, field, wanted[field])
            self.save()
            restored = self.restore_expired(now, actor) if self.valid_until > before else 0
            if self.words() != words:  # its name alone is in no message
                self.rewrite_pending()
        return restored

    def words(self) -> tuple[str, str, date]:
        """What of the promotion its messages say: code, benefit and valid-until day."""
        return self.code, self.benefit, self.valid_until

    def rewrite_pending(self) -> int:
        """Write again, from the promotion as saved, the text of its campaigns' pending messages.

        Call it in the transaction that changed the promotion; returns how many changed.
        """
        sending = (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
        return rerender_pending(self.campaigns.filter(status__in=sending).order_by("id"))

    def restore_expired(self, now: datetime, actor: str) -> int:
        """Put back in line what was skipped as expired, in campaigns where it no longer is.

        Only campaigns that may still send (active, paused, or completed by the expiry) are
        touched; a cancelled one stays cancelled. A completed campaign becomes active again.
        Returns how many messages went back to pending.
        """
        restored = 0
        open_statuses = [CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.COMPLETED]
        for campaign in self.campaigns.filter(status__in=open_statuses).select_related("sender"):
            if self.valid_until < campaign.sender.local_day(now):
                continue  # still over where this campaign sends
            detail = f"La promoción {self.code} ahora vence el {self.valid_until:%d/%m/%Y}: vuelve a la cola."
            restored += campaign.messages.restore_expired(now, actor, detail)
        return restored
