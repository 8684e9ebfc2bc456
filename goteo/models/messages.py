"""Messages: one row per person per campaign, and the log of every change of state."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from goteo.models.campaigns import Campaign
from goteo.models.contacts import Contact
from goteo.models.exclusions import ExcludedPhone
from goteo.models.lifecycle import Actor, CampaignStatus, MessageStatus, SkipReason, check
from goteo.writes import write_transaction

log = logging.getLogger("goteo.engine")  # the sending's housekeeping logs under the sending's name


def landlines_allowed() -> bool:
    """GOTEO_ALLOW_LANDLINES: the shop knows its customers' landlines have WhatsApp Business."""
    return bool(getattr(settings, "GOTEO_ALLOW_LANDLINES", False))


# Skipping is the shop's doing unless the reason says who else it was.
SKIPPED_BY = {
    SkipReason.OPTED_OUT.value: Actor.RECIPIENT,
    SkipReason.EXPIRED.value: Actor.HOUSEKEEPING,
    SkipReason.ENDED.value: Actor.HOUSEKEEPING,
    SkipReason.LATE.value: Actor.HOUSEKEEPING,
    SkipReason.DATE_MOVED.value: Actor.HOUSEKEEPING,
}
CHUNK = 500  # ids per statement, well under SQLite's bound on a statement's variables


class MessageQuerySet(models.QuerySet["Message"]):
    """Messages, with the one verb that changes their status."""

    def transition(
        self,
        to_status: str,
        *,
        actor: Actor,
        by: str,
        now: datetime,
        detail: str = "",
        on_moved: Callable[[int], object] | None = None,
        **fields: Any,
    ) -> int:
        """Move every row of this queryset not already in ``to_status`` there; how many moved.

        Each (from, ``to_status``, ``actor``) is checked against the lifecycle's table first:
        an illegal one raises IllegalTransition and changes nothing. Rows are updated only
        while still in the status they were read in (and locked, on PostgreSQL), set
        ``fields`` too, get one MessageEvent each naming ``by`` (else the actor's kind) with
        ``detail``, and move their campaign's counters. ``on_moved(n)`` runs after the rows
        move and before the counters do: a claim takes the day's slots before the campaign's
        row, and a release must not wait on them in the other order. A campaign a message
        goes back to pending in is no longer completed. Filter the queryset for any further
        condition (``claim_token=token``).
        """
        target = str(to_status)
        with write_transaction():
            rows = list(
                self.exclude(status=target)
                .select_for_update(of=("self",))
                .order_by("id")
                .values_list("id", "campaign_id", "status")
            )
            groups: dict[tuple[int, str], list[int]] = defaultdict(list)
            for message_id, campaign_id, status in rows:
                groups[(campaign_id, status)].append(message_id)
            for _campaign, from_status in groups:
                check(from_status, target, actor)
            moved = {key: self.update_ids(ids, key[1], target, fields) for key, ids in groups.items()}
            total = sum(len(ids) for ids in moved.values())
            if not total:
                return 0
            if on_moved is not None:
                on_moved(total)
            for (campaign_id, from_status), ids in moved.items():
                Campaign.shift_count(campaign_id, from_status, target, len(ids))
            who, why = (by or actor.value)[:150], detail[:2000]
            MessageEvent.objects.bulk_create(
                (
                    MessageEvent(
                        message_id=i, at=now, from_status=key[1], to_status=target, actor=who, detail=why
                    )
                    for key, ids in moved.items()
                    for i in ids
                ),
                batch_size=CHUNK,
            )
            if target == MessageStatus.PENDING:
                campaign_ids = {campaign_id for (campaign_id, _from), ids in moved.items() if ids}
                Campaign.objects.filter(pk__in=campaign_ids, status=CampaignStatus.COMPLETED).update(
                    status=CampaignStatus.ACTIVE, finished_at=None
                )
        return total

    def skip_pending(self, reason: str, now: datetime, *, actor: Actor | None = None, by: str = "") -> int:
        """Skip the pending rows with ``reason``; returns how many.

        ``actor`` defaults to the one who skips for that reason: the person for an opt-out,
        housekeeping for an expired promotion, the shop for the rest.
        """
        who = actor or SKIPPED_BY.get(reason, Actor.OWNER)
        return self.filter(status=MessageStatus.PENDING).transition(
            MessageStatus.SKIPPED,
            actor=who,
            by=by,
            now=now,
            detail=str(SkipReason(reason).label),
            skip_reason=reason,
            finished_at=now,
        )

    def restore_expired(self, now: datetime, by: str, detail: str) -> int:
        """Put the rows skipped because the promotion expired back to pending; how many moved.

        Only messages never sent, to people who have not opted out and are on no exclusion
        list since; each gets an event. A campaign the expiry completed becomes active again.
        """
        gone = Contact.objects.filter(opted_out=True).values("phone")
        expired = (
            self.filter(
                status=MessageStatus.SKIPPED,
                skip_reason=SkipReason.EXPIRED,
                sent_at__isnull=True,
                provider_message_id="",
            )
            .exclude(contact__opted_out=True)
            .exclude(phone__in=gone)
            .exclude(phone__in=ExcludedPhone.objects.values("phone"))
        )
        return expired.transition(
            MessageStatus.PENDING,
            actor=Actor.OWNER,
            by=by,
            now=now,
            detail=detail,
            skip_reason="",
            finished_at=None,
        )

    def update_ids(
        self, ids: list[int], from_status: str, to_status: str, fields: dict[str, Any]
    ) -> list[int]:
        """Move the rows ``ids`` still in ``from_status``; the ids that moved."""
        done: list[int] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = self.model.objects.filter(pk__in=chunk, status=from_status)
            n = rows.update(status=to_status, **fields)
            if n == len(chunk):
                done.extend(chunk)
            elif n:  # not while the rows are locked; read back which moved rather than guess
                moved = self.model.objects.filter(pk__in=chunk, status=to_status)
                done.extend(moved.values_list("id", flat=True))
        return done

    # --- what a campaign and the sending's housekeeping do to their messages --------------
    def cancel(self, now: datetime, by: str = "") -> int:
        """Skip the pending ones: their campaign was cancelled. Returns how many."""
        return self.skip_pending(SkipReason.CANCELLED, now, by=by)

    def expire(self, now: datetime, *, ended: bool = False) -> int:
        """Skip the pending ones: their promotion is over (``ended``: their campaign's end came).
        Returns how many."""
        return self.skip_pending(SkipReason.ENDED if ended else SkipReason.EXPIRED, now)

    def requeue_failed(self, now: datetime, by: str = "") -> int:
        """Message.requeue_failed on these messages."""
        return Message.requeue_failed(self, now, by=by)

    def sweep_stale(self, now: datetime, actor: str) -> int:
        """Messages left ``sending`` by a dead worker become ``unknown``, never pending."""
        lease = getattr(settings, "GOTEO_SENDING_LEASE_SECONDS", 600)
        stale = self.filter(claimed_at__lt=now - timedelta(seconds=lease))
        moved = stale.mark_unknown(
            "el proceso que lo enviaba se detuvo; puede haber salido: revisar", now, actor
        )
        if moved:
            log.warning("%d message(s) left sending by a stopped worker are now unknown", moved)
        return moved

    def abandon(self, claims: dict[int, uuid.UUID], now: datetime, actor: str) -> int:
        """Claims (message id -> claim token) a process will not finish become ``unknown`` now.

        For a forced stop: the messages may be on their way to the provider, so they are
        never sent again. A claim already recorded (its token moved on) is left alone.
        """
        mine = self.filter(pk__in=list(claims), claim_token__in=list(claims.values()))
        reason = "el worker se detuvo a la fuerza mientras lo enviaba; puede haber salido: revisar"
        return mine.mark_unknown(reason, now, actor)

    def mark_unknown(self, reason: str, now: datetime, actor: str) -> int:
        """The ones still ``sending`` become ``unknown`` with ``reason`` and an event each; a
        simulation's become ``simulated`` (goteo.simulation: they were at most printed, so
        nobody received them and they must not hold anyone back). Returns how many became
        unknown."""
        sending = self.filter(status=MessageStatus.SENDING)
        simulated = "el proceso se detuvo mientras lo simulaba; nadie lo recibió"
        sending.filter(campaign__simulation=True).transition(
            MessageStatus.SIMULATED,
            actor=Actor.HOUSEKEEPING,
            by=actor,
            now=now,
            detail=simulated,
            last_error=simulated,
            finished_at=now,
        )
        return sending.filter(campaign__simulation=False).transition(
            MessageStatus.UNKNOWN,
            actor=Actor.HOUSEKEEPING,
            by=actor,
            now=now,
            detail=reason,
            last_error=reason,
            finished_at=now,
        )


class Message(models.Model):
    """One person's message in one campaign: the unit that is sent at most once."""

    # No index of its own: every index below starts with the campaign.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    contact_name = models.CharField(_("nombre"), max_length=200)
    phone = models.CharField(_("teléfono"), max_length=20, null=True, blank=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("estado"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    skip_reason = models.CharField(
        _("motivo de omisión"), max_length=20, choices=SkipReason.choices, blank=True
    )
    rendered_text = models.TextField(_("texto"))
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    next_attempt_at = models.DateTimeField(_("próximo intento"), null=True, blank=True)
    last_error = models.TextField(_("último error"), blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=100, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    quota_day = models.DateField(null=True, blank=True, editable=False)
    provider_message_id = models.CharField(_("id del proveedor"), max_length=128, blank=True, db_index=True)
    delivery_status = models.CharField(_("entrega"), max_length=16, blank=True)
    delivered_at = models.DateTimeField(_("entregado"), null=True, blank=True)
    read_at = models.DateTimeField(_("leído"), null=True, blank=True)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    sent_at = models.DateTimeField(_("enviado"), null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The person's own promotion code, when the campaign gives one each (unique everywhere).
    code = models.CharField(_("código"), max_length=40, blank=True)
    replied_at = models.DateTimeField(_("respondió"), null=True, blank=True)
    # An automation sends once per person and occurrence: the year of a birthday, the value of
    # the date a reminder counts from (goteo.triggers). Empty in a one-off campaign.
    occurrence = models.CharField(_("ocasión"), max_length=32, blank=True, default="")
    # An automation's message still pending at this moment is skipped: it would arrive too late.
    deadline = models.DateTimeField(_("enviar antes de"), null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("mensaje")
        verbose_name_plural = _("mensajes")
        constraints = [
            # Once per person per campaign; an automation's occurrences are each their own once.
            models.UniqueConstraint(
                fields=["campaign", "contact", "occurrence"], name="goteo_msg_once_per_contact"
            ),
            models.UniqueConstraint(
                fields=["campaign", "phone", "occurrence"], name="goteo_msg_once_per_phone"
            ),
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="goteo_msg_code_unique"),
            models.CheckConstraint(
                condition=Q(status__in=MessageStatus.values), name="goteo_msg_status_valid"
            ),
        ]
        indexes = [
            # The engine's hot query: the next pending message of a campaign.
            models.Index(fields=["campaign", "status", "id"], name="goteo_msg_next"),
            models.Index(fields=["status", "claimed_at"], name="goteo_msg_stale"),
            models.Index(fields=["campaign", "sent_at"], name="goteo_msg_sent_day"),
            # A person's reply finds the promotion it answers: their phone's latest send. Only
            # sent rows are indexed, so a launch's inserts do not pay for it.
            models.Index(
                fields=["phone", "sent_at"], name="goteo_msg_phone_sent", condition=Q(sent_at__isnull=False)
            ),
            # The grace period's sweep: only automations' messages carry a deadline.
            models.Index(fields=["deadline"], name="goteo_msg_deadline", condition=Q(deadline__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.contact_name} ({self.get_status_display()})"

    @property
    def patient(self) -> Contact:
        """The seed's name for the contact (``msg.patient.full_name``).

        A contact deleted since still answers with the name and phone the message was for.
        """
        return self.contact or Contact(full_name=self.contact_name, phone=self.phone or "")

    # --- table-level changes: each goes through ``transition`` --------------------------
    @staticmethod
    def move(queryset: QuerySet[Message], to_status: str, now: datetime, **fields: Any) -> int:
        """Put the rows of ``queryset`` in ``to_status`` as they stand, keeping the campaign
        counters exact, with no check against the lifecycle and no event.

        For tests and repairs that build a state directly, and for engine.py until its sweep
        moves to ``transition``; every other change of state is a ``transition``. Returns the
        number of rows moved.
        """
        moved = 0
        with transaction.atomic():
            groups = (
                queryset.exclude(status=to_status)
                .values_list("campaign_id", "status")
                .annotate(n=Count("id"))
                .order_by()
            )
            for campaign_id, from_status, _n in list(groups):
                n = queryset.filter(campaign_id=campaign_id, status=from_status).update(
                    status=to_status, **fields
                )
                Campaign.shift_count(campaign_id, from_status, to_status, n)
                moved += n
        return moved

    @classmethod
    def requeue_failed(cls, queryset: MessageQuerySet, now: datetime, by: str = "") -> int:
        """Send failed rows again with fresh attempts, except to people who opted out.

        Nor to landlines, unless GOTEO_ALLOW_LANDLINES says the shop's landline has WhatsApp:
        a fixed line failed because WhatsApp does not reach it, and would fail again.
        """
        candidates = queryset.filter(status=MessageStatus.FAILED).exclude(contact__opted_out=True)
        if not landlines_allowed():
            candidates = candidates.exclude(contact__landline=True)
        return candidates.transition(
            MessageStatus.PENDING,
            actor=Actor.OWNER,
            by=by,
            now=now,
            detail="se reintenta un mensaje fallido",
            attempts=0,
            next_attempt_at=None,
            finished_at=None,
        )

    @classmethod
    def resolve_unknown(cls, queryset: MessageQuerySet, decision: str, now: datetime, actor: str) -> int:
        """A person's decision about messages whose outcome nobody knows; returns how many.

        ``decision`` is ``sent`` (it did arrive), ``failed`` (it did not) or ``pending``
        (send it again, at the risk that the person receives it twice). Each message gets an
        event naming ``actor``; a completed campaign becomes active again after a resend.
        """
        if decision not in (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.PENDING):
            raise ValueError(f"decisión desconocida {decision!r}")
        fields: dict[str, Any] = {"finished_at": now}
        detail = f"{actor} decidió: {MessageStatus(decision).label}"
        if decision == MessageStatus.SENT:
            fields["sent_at"] = Coalesce(F("claimed_at"), Value(now))
        elif decision == MessageStatus.PENDING:
            fields = {"attempts": 0, "next_attempt_at": None, "finished_at": None, "claim_token": None}
            detail = f"{actor} decidió reenviar; la persona puede recibirlo dos veces"
        unknown = queryset.filter(status=MessageStatus.UNKNOWN)
        with transaction.atomic():
            campaign_ids = set(unknown.values_list("campaign_id", flat=True))
            moved = unknown.transition(
                decision, actor=Actor.OWNER, by=actor, now=now, detail=detail, **fields
            )
        if decision != MessageStatus.PENDING:
            for campaign in Campaign.objects.filter(pk__in=campaign_ids):
                campaign.complete_if_done(now)
        return moved


class MessageEvent(models.Model):
    """An append-only record of one change of a message's state, and who made it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    actor = models.CharField(max_length=150, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("evento de mensaje")
        verbose_name_plural = _("eventos de mensajes")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
