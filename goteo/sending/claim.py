"""The claim: a message moves ``pending -> sending`` for one worker, in a transaction that
is committed before the provider is called.

In that one transaction the sender is paced (a conditional update of its row, so workers
serialise on it), the sender's and the campaign's slots for the day are taken (conditional
increments: never over a cap), and the message is moved with a compare-and-set that gives
it a claim token. Whatever the claim could not take rolls back with it.
"""

from __future__ import annotations

import enum
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from goteo.content import outgoing_for
from goteo.frequency import hold_recent, not_reached_sql
from goteo.media import media_for
from goteo.models import Campaign, CampaignStatus, Message, MessageStatus, Sender
from goteo.pacing import jittered
from goteo.sending.dialect import Dialect, Row, dialect
from goteo.transports import OutgoingMessage
from goteo.writes import write_transaction

PENDING, SENDING = MessageStatus.PENDING.value, MessageStatus.SENDING.value
PERSON_TRIES = 5  # candidates a claim looks at before leaving the campaign for its next turn
# The columns of a claimed message that its outgoing message is built from.
OUTGOING_FIELDS = ("id", "contact_name", "phone", "rendered_text", "uuid", "code", "attempts")


class Step(enum.Enum):
    """What one step of sending came to, and so what the sender does next."""

    HANDLED = "handled"  # a message was claimed and its outcome recorded
    WINDOW = "window"  # no campaign may send now (window, expiry, mode)
    PACING = "pacing"  # the sender is paced: its next send is later
    BACKOFF = "backoff"  # only messages waiting to be retried are left
    NOTHING = "nothing"  # nothing left to claim
    SENDER_CAP = "sender cap"  # the sender's day is full
    STOP = "stop"  # the sender must stop (a brake, or it was switched off)
    DISCONNECTED = "disconnected"  # the sender's WhatsApp is not connected


@dataclass(frozen=True)
class Wait:
    """What a step came to, and the moment the sender may go on (None: no moment known;
    after HANDLED, at once)."""

    until: datetime | None
    step: Step


@dataclass
class Claim:
    """A message this worker owns until it records the outcome."""

    message_id: int
    token: uuid.UUID
    campaign: Campaign
    sender: Sender
    quota_day: date
    attempts: int
    outgoing: OutgoingMessage
    paced_until: datetime | None = None  # when the sender may send again, as the claim wrote it
    simulated: bool = False  # taken by a transport that only prints (goteo.simulation)
    outcome: str = "enviado"  # how the transport reports a success (Transport.delivered_text)


def outgoing_message(campaign: Campaign, row: Row) -> OutgoingMessage:
    """The message to hand the transport, from a claimed row's OUTGOING_FIELDS."""
    _id, contact_name, phone, text, message_uuid, code, _attempts = row
    outgoing = outgoing_for(
        campaign, name=contact_name, phone=phone, text=text, message_uuid=message_uuid, code=code
    )
    media = media_for(campaign)
    return outgoing if media is None else replace(outgoing, media=media)


def build_claim(
    message_id: int,
    token: uuid.UUID,
    campaign: Campaign,
    sender: Sender,
    day: date,
    row: Row | None = None,
) -> Claim:
    """The claim of a message just moved to ``sending``; ``row`` is its OUTGOING_FIELDS as
    read before the claim (the claim added one attempt), else they are read now."""
    if row is None:
        row = tuple(Message.objects.filter(pk=message_id).values_list(*OUTGOING_FIELDS).get())
        attempts = int(row[-1])
    else:
        attempts = int(row[-1]) + 1
    return Claim(message_id, token, campaign, sender, day, attempts, outgoing_message(campaign, row))


def next_retry_at(campaign: Campaign) -> datetime | None:
    """When the campaign's first message waiting to be retried is due, if any."""
    return (
        Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING)
        .exclude(next_attempt_at__isnull=True)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


class Claimer:
    """Claims messages for one worker (``worker_name``), pacing with ``rng``'s jitter."""

    def __init__(self, worker_name: str, rng: random.Random, db: Dialect | None = None) -> None:
        self.worker_name = worker_name
        self.rng = rng
        self.db = db or dialect()
        self.passed_over: set[int] = set()  # campaigns whose claim skipped people the cap holds

    def claim(self, sender: Sender, campaigns: list[Campaign], now: datetime) -> Claim | Wait:
        """Reserve a pacing slot and the day's caps, and move one message to ``sending``."""
        day = sender.local_day(now)
        result = self.claim_in_transaction(sender, campaigns, now, day)
        nothing = isinstance(result, Wait) and result.step in (Step.NOTHING, Step.BACKOFF)
        for campaign in campaigns:  # who is left waiting for the frequency cap, and why
            if nothing or campaign.pk in self.passed_over:
                hold_recent(campaign, now)
        self.passed_over.clear()
        if result is not None:
            return result
        fresh = Sender.objects.get(pk=sender.pk)
        if fresh.is_braked(now) or not fresh.is_active:
            return Wait(None, Step.STOP)
        return Wait(fresh.next_send_at, Step.PACING)

    def claim_in_transaction(
        self, sender: Sender, campaigns: list[Campaign], now: datetime, day: date
    ) -> Claim | Wait | None:
        """The claim transaction; None when the sender is paced or braked."""
        with write_transaction():
            # The pause of the campaign most likely to be claimed is written with the
            # conditional update; another campaign's pause is written after the claim.
            pause = jittered(campaigns[0].delay_seconds, self.rng)
            at = self.db.at(now)
            pace = (self.db.at(now + timedelta(seconds=pause)), sender.pk, at, at)
            paced, slot = self.db.pace_and_take_slot(pace, sender.counter_scope, day, sender.cap_on(day))
            if not paced:
                transaction.set_rollback(True)
                return None
            if not slot:
                transaction.set_rollback(True)
                return Wait(None, Step.SENDER_CAP)
            backoff_until: datetime | None = None
            for position, campaign in enumerate(campaigns):
                # Only a campaign that has another after it needs its own savepoint: for
                # the last one, a failure rolls the whole transaction back anyway.
                row, token = self.claim_in_campaign(
                    campaign, now, day, savepoint=position < len(campaigns) - 1
                )
                if row is None:
                    retry_at = next_retry_at(campaign)
                    if retry_at and (backoff_until is None or retry_at < backoff_until):
                        backoff_until = retry_at
                    continue
                if token is None:
                    continue
                if position > 0:
                    pause = jittered(campaign.delay_seconds, self.rng)
                    Sender.objects.filter(pk=sender.pk).update(next_send_at=now + timedelta(seconds=pause))
                claim = build_claim(row[0], token, campaign, sender, day, row=row)
                claim.paced_until = now + timedelta(seconds=pause)
                campaign.pending_count -= 1  # as the claim did, so the cache knows when it runs out
                return claim
            transaction.set_rollback(True)
            return Wait(backoff_until, Step.BACKOFF if backoff_until else Step.NOTHING)

    def claim_in_campaign(
        self, campaign: Campaign, now: datetime, day: date, *, savepoint: bool
    ) -> tuple[Row | None, uuid.UUID | None]:
        """Claim the campaign's next message: its OUTGOING_FIELDS and claim token.

        (None, None) when no message may be claimed now; (row, None) when one was found
        but the campaign could not be claimed (its cap, or a pause). What that claim took
        is undone here with a savepoint when ``savepoint`` is true, and otherwise left for
        the caller to roll back with the whole transaction.

        The first pending message that is due and whose person no other promotion reached
        within the frequency cap's period. Where claims take turns (SQLite) one statement
        finds it. Where they run side by side (PostgreSQL) each candidate's person is
        locked as it is found, and the claim checks them against the cap once the lock is
        held: the next pending messages are tried in order, cheaply, and only when the
        first few are all held does one query with the cap's conditions find the first
        free one (its plan costs about a millisecond, on every claim).
        """
        cap, cap_params = not_reached_sql(campaign, now)
        hold = bool(cap) and self.db.holds_people
        after = 0
        for attempt in range(PERSON_TRIES + 1 if hold else 1):
            capped = not hold or attempt == PERSON_TRIES  # the cheap tries found only people who are held
            at = self.db.at(now)
            params = (campaign.pk, PENDING, at, at, after)
            found = self.db.next_candidate(params, cap if capped else "", cap_params if capped else [], hold)
            if found is None:
                return None, None
            row, locked = self.outgoing_row(found), bool(found[-1])
            if locked:
                point = transaction.savepoint() if savepoint else None
                free, token = self.claim_message(campaign, row[0], now, day, cap, cap_params)
                if point is not None:
                    if free and token is None:
                        transaction.savepoint_rollback(point)
                    else:
                        transaction.savepoint_commit(point)
                if free:
                    return row, token
            # Held by the cap, or locked by another claim: after this claim, the people the
            # cap holds get their reason and date, so the next claims do not walk past them.
            self.passed_over.add(campaign.pk)
            after = row[0]
        return None, None

    @staticmethod
    def outgoing_row(found: Row) -> Row:
        message_id, contact_name, phone, text, message_uuid, code, attempts = found[:7]
        message_uuid = Message._meta.get_field("uuid").to_python(message_uuid)
        return (message_id, contact_name, phone, text, message_uuid, code, attempts)

    def claim_message(
        self,
        campaign: Campaign,
        message_id: int,
        now: datetime,
        day: date,
        cap: str = "",
        cap_params: Sequence[Any] = (),
    ) -> tuple[bool, uuid.UUID | None]:
        """Take the campaign's slot, move the message to ``sending`` and log it.

        Whether the message's person is still free under the frequency cap's conditions
        ``cap`` (with the person locked, where claims run side by side), and the claim
        token: None when the slot, the message or the campaign could not be taken (the
        caller then rolls back what was taken).

        The campaign's counters move only while it is active, so a pause or a cancellation
        committed before this claim stops it.
        """
        token, at = uuid.uuid4(), self.db.at(now)
        moved = (SENDING, self.db.token(token), self.worker_name, at, self.db.day(day), message_id, PENDING)
        active = (campaign.pk, CampaignStatus.ACTIVE.value)
        event = (at, PENDING, SENDING, self.worker_name, "")
        slot = (campaign.counter_scope, day, campaign.daily_limit)
        free, taken = self.db.claim_message(message_id, slot, moved, active, event, cap, cap_params)
        return free, token if taken else None
