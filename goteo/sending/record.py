"""Recording what became of a claimed message: sent, failed, retried later or unknown.

Every write is guarded by the claim token, so only the claim that owns a message moves it,
and writing an outcome again (a retry after the database dropped the answer to its commit)
changes nothing: what follows a write (counting it, braking the number, giving back the
day's slots) happens only when the write moved the message.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from goteo import health
from goteo.clock import Clock
from goteo.models import (
    Actor,
    Campaign,
    CampaignStatus,
    Contact,
    DailyCounter,
    Message,
    MessageStatus,
    SkipReason,
)
from goteo.pacing import backoff_seconds
from goteo.phones import mask_phone
from goteo.sending import sql
from goteo.sending.claim import Claim
from goteo.sending.dialect import Dialect, dialect
from goteo.transports import SendError
from goteo.writes import write_transaction

log = logging.getLogger("goteo.engine")  # the name operators' log filters know

SENDING, SENT = MessageStatus.SENDING.value, MessageStatus.SENT.value


class Outcome(enum.Enum):
    """What recording a message's outcome did (the run counts it)."""

    SENT = "sent"
    SIMULATED = "simulated"
    FAILED = "failed"
    RETRIED = "retried"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    RELEASED = "released"  # not sent, back to pending: the sender stops (disconnected, brake)
    NONE = "none"  # nothing moved: the outcome was recorded already


def finish(
    claim: Claim,
    to_status: str,
    now: datetime,
    actor: str,
    detail: str = "",
    *,
    release: bool = False,
    **fields: Any,
) -> bool:
    """Move a claimed message out of ``sending`` if this claim still owns it.

    ``release`` gives back its day's slots too (a message that definitely did not go
    out), only while this claim owned it. They are given back before the campaign's
    counters move, the order a claim takes them in: two workers, one claiming and
    one recording, never wait on each other in a circle.
    """
    owned = Message.objects.filter(pk=claim.message_id, status=MessageStatus.SENDING, claim_token=claim.token)
    moved = owned.transition(
        to_status,
        actor=Actor.WORKER,
        by=actor,
        now=now,
        detail=detail,
        on_moved=(lambda _n: release_slots(claim)) if release else None,
        **fields,
    )
    return moved == 1


def release_slots(claim: Claim) -> None:
    """Give back the day's slots of a message that definitely did not go out."""
    DailyCounter.release(claim.sender.counter_scope, claim.quota_day)
    DailyCounter.release(claim.campaign.counter_scope, claim.quota_day)


def complete_if_done(campaign: Campaign, now: datetime, db: Dialect | None = None) -> None:
    """Campaign.complete_if_done as one of the sending's statements."""
    db = db or dialect()
    done, active = CampaignStatus.COMPLETED.value, CampaignStatus.ACTIVE.value
    if db.execute(sql.COMPLETE, done, db.at(now), campaign.pk, active) == 1:
        campaign.status, campaign.finished_at = done, now


def record_late(
    claim: Claim, provider_id: str, now: datetime, *, to_status: str = SENT, by: str = ""
) -> bool:
    """The sweep marked it unknown while we were sending: the send did happen (``to_status``).

    ``by`` names the worker in the message's event, as its other outcomes do.

    False when it was neither ``sending`` nor ``unknown`` under this claim any more (a person
    resolved it meanwhile): then nothing is recorded.
    """
    fields: dict[str, Any] = {"finished_at": now, "provider_message_id": provider_id or ""}
    if to_status == SENT:
        fields["sent_at"] = now
    else:
        fields["last_error"] = ""
    late = Message.objects.filter(pk=claim.message_id, status=MessageStatus.UNKNOWN, claim_token=claim.token)
    detail = (
        "respuesta tardía del proveedor: sí salió"
        if to_status == SENT
        else "respuesta tardía de una simulación"
    )
    if not late.transition(to_status, actor=Actor.WORKER, by=by, now=now, detail=detail, **fields):
        log.error("late result for message %s: it had moved on; nothing recorded", claim.message_id)
        return False
    if to_status == SENT:  # a simulation only printed it: nothing to alarm anyone about
        log.critical("late result for message %s: recorded as sent", claim.message_id)
    return True


def confirmed_meanwhile(claim: Claim) -> bool:
    """True when a webhook recorded a delivery state for the message while it was sending."""
    return Message.objects.filter(
        pk=claim.message_id, claim_token=claim.token, delivery_status__in=["sent", "delivered", "read"]
    ).exists()


def who(claim: Claim) -> str:
    return f"{claim.outgoing.variables.get('full_name', '')} ({mask_phone(claim.outgoing.to)})"


class Recorder:
    """Records outcomes for one worker (``worker_name``), reporting a line for each."""

    def __init__(
        self, clock: Clock, worker_name: str, report: Callable[[str], None], db: Dialect | None = None
    ) -> None:
        self.clock = clock
        self.worker_name = worker_name
        self.report = report
        self.db = db or dialect()

    def record_sent(self, claim: Claim, provider_id: str) -> Outcome:
        """The provider accepted the message: ``sent`` (``simulated`` in test mode)."""
        if claim.simulated:
            return self.record_simulated(claim, provider_id)
        now = self.clock.now()
        at = self.db.at(now)
        mark = (SENT, at, at, provider_id or "", claim.message_id, SENDING, self.db.token(claim.token))
        event = (at, SENDING, SENT, self.worker_name, (provider_id or "")[:2000])
        complete = (CampaignStatus.COMPLETED.value, at, claim.campaign.pk, CampaignStatus.ACTIVE.value)
        with self.db.sent_transaction():
            completed = self.db.record_sent(mark, event, claim.campaign.pk, complete)
        if completed is None:
            with write_transaction():
                moved = record_late(claim, provider_id, now, by=self.worker_name)
                complete_if_done(claim.campaign, now, self.db)
            if not moved:
                return Outcome.NONE
        elif completed:
            claim.campaign.status, claim.campaign.finished_at = CampaignStatus.COMPLETED.value, now
        self.report(f"✅ {who(claim)} {claim.outcome}")
        return Outcome.SENT

    def record_simulated(self, claim: Claim, provider_id: str) -> Outcome:
        """record_sent for a message a simulating transport took: ``simulated``, no ``sent_at``.
        A message the sweep marked unknown meanwhile becomes simulated too: it was only printed."""
        now = self.clock.now()
        fields: dict[str, Any] = {
            "finished_at": now,
            "provider_message_id": provider_id or "",
            "last_error": "",
        }
        with write_transaction():
            moved = finish(claim, MessageStatus.SIMULATED, now, self.worker_name, provider_id, **fields)
            if not moved:
                moved = record_late(
                    claim, provider_id, now, to_status=MessageStatus.SIMULATED, by=self.worker_name
                )
            complete_if_done(claim.campaign, now, self.db)
        if not moved:
            return Outcome.NONE
        self.report(f"🧪 {who(claim)} {claim.outcome}")
        return Outcome.SIMULATED

    def record_failure(self, claim: Claim, error: SendError) -> Outcome:
        """Record a failed send; what follows it (the report, an opt-out, a brake) only if
        this write moved the message."""
        now = self.clock.now()
        log.warning("send to %s failed (%s): %s", mask_phone(claim.outgoing.to), error.kind, str(error))
        with write_transaction():
            outcome = self.move_failed(claim, error, now)
        if outcome is Outcome.NONE:
            return outcome
        if error.campaign_wide:
            claim.campaign.pause(
                reason=f"El proveedor no acepta el archivo de la campaña: {error.reason}"[:300]
            )
            self.report(
                f"⏸ {claim.campaign.name}: en pausa, el proveedor no acepta su archivo ({error.reason})."
            )
            return outcome
        if error.kind == SendError.PERMANENT and error.opted_out and claim.outgoing.to:
            for contact in Contact.objects.filter(phone=claim.outgoing.to):
                contact.opt_out("proveedor", now)
        if error.kind in (SendError.DISCONNECTED, SendError.BRAKE):
            health.forget(claim.sender)  # the next check asks the provider again
        if error.kind == SendError.DISCONNECTED:
            self.report(f"✖ {claim.sender.name}: WhatsApp se desconectó ({error}); se detiene el envío.")
        elif error.kind == SendError.BRAKE:
            claim.sender.brake(f"Freno automático: {error}", error.brake_until(now, claim.sender.tz), now=now)
            self.report(f"🛑 {claim.sender.name}: freno automático ({error}); campañas en pausa.")
        complete_if_done(claim.campaign, now, self.db)
        return outcome

    def move_failed(self, claim: Claim, error: SendError, now: datetime) -> Outcome:
        """The message's move for a failed send (inside the caller's transaction)."""
        reason, actor = str(error), self.worker_name

        def moved(to_status: str, outcome: Outcome, detail: str = reason, **fields: Any) -> Outcome:
            return outcome if finish(claim, to_status, now, actor, detail, **fields) else Outcome.NONE

        if error.campaign_wide:
            # The provider refused the campaign's file (its size or type): nobody received
            # anything, so the message waits, and the campaign pauses with the reason.
            return moved(
                MessageStatus.PENDING,
                Outcome.RELEASED,
                release=True,
                last_error=reason,
                attempts=F("attempts") - 1,
                claim_token=None,
            )
        if error.kind == SendError.UNKNOWN and confirmed_meanwhile(claim):
            # A delivery receipt arrived while we waited for the answer: it went out.
            return moved(MessageStatus.SENT, Outcome.SENT, sent_at=now, finished_at=now)
        if error.kind == SendError.UNKNOWN:
            result = moved(MessageStatus.UNKNOWN, Outcome.UNKNOWN, last_error=reason, finished_at=now)
            if result is not Outcome.NONE:
                self.report(f"❓ {who(claim)}: resultado desconocido, queda para revisión ({reason})")
            return result
        if error.kind == SendError.PERMANENT:
            if error.opted_out:
                result = moved(
                    MessageStatus.SKIPPED,
                    Outcome.SKIPPED,
                    skip_reason=SkipReason.OPTED_OUT,
                    last_error=reason,
                    finished_at=now,
                )
            else:
                result = moved(MessageStatus.FAILED, Outcome.FAILED, last_error=reason, finished_at=now)
            if result is not Outcome.NONE:
                self.report(f"❌ {who(claim)}: {reason}")
            return result
        if error.kind == SendError.RETRY and claim.attempts >= claim.campaign.max_attempts:
            final = f"{reason} (tras {claim.attempts} intentos)"
            result = moved(
                MessageStatus.FAILED, Outcome.FAILED, final, release=True, last_error=final, finished_at=now
            )
            if result is not Outcome.NONE:
                self.report(f"❌ {who(claim)}: {final}")
            return result
        if error.kind == SendError.RETRY:
            wait = timedelta(seconds=backoff_seconds(claim.attempts, error.retry_after))
            result = moved(
                MessageStatus.PENDING,
                Outcome.RETRIED,
                release=True,
                last_error=reason,
                next_attempt_at=now + wait,
            )
            if result is not Outcome.NONE:
                self.report(f"⏳ {who(claim)}: se reintentará ({reason})")
            return result
        # Disconnected or braked: not sent, and this sender stops.
        return moved(
            MessageStatus.PENDING,
            Outcome.RELEASED,
            release=True,
            last_error=reason,
            attempts=F("attempts") - 1,
            claim_token=None,
        )
