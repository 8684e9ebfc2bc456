"""What people write to our numbers, the hidden ids WhatsApp names them by, and our replies.

Every inbound message is stored, matched to a contact or not: a message goteo cannot tie to
a person waits in the dashboard for someone to match it, so no opt-out is ever lost.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from goteo.models.contacts import Contact
from goteo.models.senders import Backend, Sender


class InboundMessage(models.Model):
    """One message a person wrote to one of our numbers, as the provider reported it."""

    provider = models.CharField(_("proveedor"), max_length=16, choices=Backend.choices)
    provider_message_id = models.CharField(_("id del proveedor"), max_length=191)
    # The provider's id of the person: a phone, a hidden "…@lid" or a Meta user id.
    sender_ref = models.CharField(_("remitente según WhatsApp"), max_length=128, blank=True)
    sender = models.ForeignKey(
        Sender, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    phone = models.CharField(_("teléfono"), max_length=20, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    matched_by = models.CharField(_("identificado por"), max_length=32, blank=True)
    # The campaign that last wrote to this person within the reply window, and its message.
    campaign = models.ForeignKey(
        "goteo.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_replies"
    )
    in_reply_to = models.ForeignKey(
        "goteo.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_replies"
    )
    text = models.TextField(_("texto"), blank=True)
    is_opt_out = models.BooleanField(_("pide la baja"), default=False)
    received_at = models.DateTimeField(_("recibido"))
    handled_by = models.CharField(_("atendido por"), max_length=150, blank=True)
    handled_at = models.DateTimeField(_("atendido"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("mensaje recibido")
        verbose_name_plural = _("mensajes recibidos")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"], name="goteo_inbound_provider_id"
            ),
        ]
        indexes = [
            models.Index(fields=["handled_at", "phone"], name="goteo_inbound_open"),
            models.Index(fields=["campaign", "received_at"], name="goteo_inbound_campaign"),
        ]
        permissions = [("handle_reply", _("Puede leer y atender las respuestas"))]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_message_id}"

    @property
    def identified(self) -> bool:
        return bool(self.phone)

    @property
    def sender_ref_shown(self) -> str:
        """The sender's reference without WhatsApp's internal suffix ("13718", not "13718@lid")."""
        return self.sender_ref.partition("@")[0]

    @classmethod
    def unidentified(cls) -> models.QuerySet[InboundMessage]:
        """Messages no one has tied to a phone yet: the dashboard's list."""
        return cls.objects.filter(phone="", handled_at__isnull=True)

    @classmethod
    def replies(cls) -> models.QuerySet[InboundMessage]:
        """Messages tied to a person: the "Respuestas" inbox, newest first."""
        return cls.objects.exclude(phone="").order_by("-received_at", "-id")

    @classmethod
    def unread_replies(cls) -> models.QuerySet[InboundMessage]:
        """Replies nobody has marked handled yet (an opt-out is handled by applying it)."""
        return cls.replies().filter(handled_at__isnull=True)

    @property
    def handled_by_shown(self) -> str:
        """Who handled it, without the dashboard's "panel:" prefix."""
        return self.handled_by.removeprefix("panel:")

    def mark_handled(self, by: str, now: datetime) -> None:
        self.handled_by, self.handled_at = by[:150], now
        InboundMessage.objects.filter(pk=self.pk).update(handled_by=self.handled_by, handled_at=now)

    def mark_unhandled(self) -> None:
        """Back to the replies waiting for someone."""
        self.handled_by, self.handled_at = "", None
        InboundMessage.objects.filter(pk=self.pk).update(handled_by="", handled_at=None)


class WhatsAppLid(models.Model):
    """A hidden WhatsApp id ("…@lid") and the phone it belongs to, once goteo learned it."""

    lid = models.CharField(_("id oculto"), max_length=64, unique=True)
    phone = models.CharField(_("teléfono"), max_length=20, db_index=True)
    source = models.CharField(_("aprendido de"), max_length=32, blank=True)
    learned_at = models.DateTimeField(_("aprendido"))

    class Meta:
        verbose_name = _("id oculto de WhatsApp")
        verbose_name_plural = _("ids ocultos de WhatsApp")

    def __str__(self) -> str:
        return self.lid


class ReplyStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    SENDING = "sending", _("Enviando")
    SENT = "sent", _("Enviada")
    FAILED = "failed", _("Fallida")
    UNKNOWN = "unknown", _("Sin confirmar")
    EXPIRED = "expired", _("Vencida")


class Reply(models.Model):
    """A reply goteo owes a person (the opt-out confirmation), sent by the worker.

    One per inbound message at most (the unique inbound), so a webhook the provider sends
    twice queues one reply.
    """

    inbound = models.OneToOneField(InboundMessage, on_delete=models.CASCADE, related_name="reply")
    sender = models.ForeignKey(Sender, on_delete=models.CASCADE, related_name="replies")
    phone = models.CharField(_("teléfono"), max_length=20)
    text = models.TextField(_("texto"))
    status = models.CharField(
        _("estado"), max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.PENDING
    )
    created_at = models.DateTimeField(_("creada"))
    send_by = models.DateTimeField(_("enviar antes de"))
    next_attempt_at = models.DateTimeField(_("próximo intento"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("enviada"), null=True, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    last_error = models.TextField(_("último error"), blank=True)

    class Meta:
        verbose_name = _("respuesta")
        verbose_name_plural = _("respuestas")
        indexes = [models.Index(fields=["status", "sender"], name="goteo_reply_due")]

    def __str__(self) -> str:
        return f"{self.sender_id} {self.status}"
