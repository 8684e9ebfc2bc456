"""Contacts: the people a shop may message, with their consent and opt-out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from goteo.models.lifecycle import SkipReason
from goteo.phones import InvalidPhone, normalize_phone, read_phone


class Tag(models.Model):
    """A label for choosing an audience, e.g. ``vip`` or ``lentes-de-contacto``."""

    name = models.CharField(_("nombre"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("etiqueta")
        verbose_name_plural = _("etiquetas")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A customer (the shop's patient). ``phone`` is E.164, or empty when invalid."""

    full_name = models.CharField(_("nombre completo"), max_length=200)
    phone = models.CharField(_("teléfono (E.164)"), max_length=20, blank=True, db_index=True)
    phone_raw = models.CharField(_("teléfono como se escribió"), max_length=64, blank=True)
    landline = models.BooleanField(_("teléfono fijo"), default=False)
    consent = models.BooleanField(_("acepta promociones"), default=False)
    consent_at = models.DateTimeField(_("fecha del consentimiento"), null=True, blank=True)
    consent_source = models.CharField(_("origen del consentimiento"), max_length=64, blank=True)
    opted_out = models.BooleanField(_("dado de baja"), default=False)
    opted_out_at = models.DateTimeField(_("fecha de la baja"), null=True, blank=True)
    opt_out_source = models.CharField(_("origen de la baja"), max_length=64, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", verbose_name=_("etiquetas"))
    # The dates reminders count from (goteo.triggers) and the shop's own facts about the person.
    birth_date = models.DateField(_("fecha de nacimiento"), null=True, blank=True)
    last_visit = models.DateField(_("última visita"), null=True, blank=True)
    attributes = models.JSONField(
        _("atributos"),
        default=dict,
        blank=True,
        help_text=_("Datos propios de la tienda, p. ej. «producto: lentes de contacto»."),
    )
    # Where a synced contact comes from (goteo.contact_source): "patients.Patient:42".
    source_ref = models.CharField(_("origen"), max_length=120, blank=True, editable=False)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    class Meta:
        ordering = ["full_name", "id"]
        constraints = [
            # One contact per row of the shop's own system: a sync and a save of the same new
            # patient at the same moment cannot both create one (goteo.contact_sync).
            models.UniqueConstraint(
                fields=["source_ref"],
                condition=~models.Q(source_ref=""),
                name="goteo_contact_one_per_source_row",
            ),
        ]
        verbose_name = _("contacto")
        verbose_name_plural = _("contactos")

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``phone`` E.164 whoever saves: an invalid number is kept as typed, phone empty.

        A host project may create contacts without a form; a launch then skips an empty
        phone with the reason instead of sending to whatever was typed. ``landline``
        follows the phone.
        """
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "phone" in update_fields:
            self.landline = False
            if self.phone:
                try:
                    phone = read_phone(self.phone)
                except InvalidPhone:
                    self.phone_raw = self.phone_raw or self.phone
                    self.phone = ""
                else:
                    self.phone, self.landline = phone.e164, phone.landline
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "landline"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Normalize the phone to E.164, refusing one that cannot be a WhatsApp number, and
        keep the attributes names with values (the admin lets any JSON be typed)."""

        if not isinstance(self.attributes, dict):
            raise ValidationError(
                {"attributes": _('Escriba nombres con sus valores, por ejemplo {"producto": "gafas"}.')}
            )
        if not self.phone:
            return
        try:
            self.phone = normalize_phone(self.phone)
        except InvalidPhone as exc:
            raise ValidationError({"phone": str(exc)}) from exc

    @property
    def first_name(self) -> str:
        """The first word of the full name, for ``{name}``."""
        parts = self.full_name.split()
        return parts[0] if parts else ""

    def opt_out(self, source: str, now: datetime) -> int:
        """Record that this person wants no more promotions and skip what is pending.

        Returns how many pending messages were skipped across all campaigns.
        """
        if not self.opted_out:
            self.opted_out = True
            self.opted_out_at = now
            self.opt_out_source = source
            self.save(update_fields=["opted_out", "opted_out_at", "opt_out_source", "updated_at"])
        mine = models.Q(contact=self) | (models.Q(phone=self.phone) if self.phone else models.Q())
        messages = self.messages.model.objects  # also those to this phone under another contact
        return messages.filter(mine).skip_pending(SkipReason.OPTED_OUT, now, by=source)

    def opt_in(self, source: str, now: datetime) -> None:
        """Record that the person asked to receive promotions again.

        Messages already skipped because of the opt-out stay skipped; only later
        campaigns include the person.
        """
        self.opted_out = False
        self.opted_out_at = None
        self.opt_out_source = ""
        self.consent = True
        self.consent_at = now
        self.consent_source = source
        self.save(
            update_fields=[
                "opted_out",
                "opted_out_at",
                "opt_out_source",
                "consent",
                "consent_at",
                "consent_source",
                "updated_at",
            ]
        )
