"""Redeeming a promotion at the counter: find who is using it, then record it once.

A person is found by their own code (``NAVIDAD2026-7K3F9QX2``, typed in any case, with
spaces), or, when the campaign sent everyone the same code, by their phone and the
promotion's code. Each promotion is redeemed once per phone: the database's unique
constraint decides between two counters pressing the button at the same moment, and the
second is told when and by whom it was redeemed. An expired promotion is refused unless
the staff give a reason, which is kept with the redemption.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from goteo.codes import compact_code, normalize_code
from goteo.models import Campaign, Contact, Message, MessageStatus, Promotion, Redemption
from goteo.phones import InvalidPhone, mask_phone, normalize_phone

log = logging.getLogger("goteo.redemptions")

# A message the person may have read: one goteo sent, or one whose outcome nobody knows.
RECEIVED = (MessageStatus.SENT, MessageStatus.UNKNOWN)


class RedemptionRefused(Exception):
    """A code or phone that cannot be redeemed; the message says why, in Spanish.

    ``reason`` is ``unknown``, ``redeemed`` (already), ``expired`` or ``invalid``.
    """

    def __init__(self, message: str, reason: str, previous: Redemption | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.previous = previous


@dataclass
class Redeemable:
    """Who is using which promotion, as the counter sees it before marking it redeemed."""

    promotion: Promotion
    phone: str
    name: str
    code: str  # the person's own code, or the promotion's shared one
    message: Message | None
    campaign: Campaign | None
    contact: Contact | None
    previous: Redemption | None  # set when it was already redeemed

    @property
    def tz(self) -> ZoneInfo:
        """Where the shop's days are counted: the campaign's number, else the installation."""
        return self.campaign.sender.tz if self.campaign is not None else ZoneInfo(settings.TIME_ZONE)

    def local_day(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def is_expired(self, now: datetime) -> bool:
        """True once the promotion's last valid day is over in the shop's time zone."""
        return self.promotion.valid_until < self.local_day(now)

    def when_text(self, moment: datetime) -> str:
        return f"{moment.astimezone(self.tz):%d/%m/%Y a las %H:%M}"

    def already_text(self) -> str:
        """``El código X ya se canjeó el 05/12/2026 a las 15:30 (atendió: ana).``"""
        assert self.previous is not None
        own = self.message is not None and bool(self.message.code) and self.code == self.message.code
        what = f"El código {self.code}" if own else f"La promoción {self.promotion.code} para este número"
        return (
            f"{what} ya se canjeó el {self.when_text(self.previous.redeemed_at)} "
            f"(atendió: {self.previous.redeemed_by})."
        )

    def expired_text(self) -> str:
        return (
            f"La promoción {self.promotion.code} venció el {self.promotion.valid_until:%d/%m/%Y}. "
            "Para aceptarla igual, escriba el motivo."
        )

    def redeem(self, now: datetime, by: str, reason: str = "") -> Redemption:
        """Record the redemption and count it on its campaign; refuses what cannot be redeemed.

        Raises RedemptionRefused when it was already redeemed (also by someone else at the
        same moment) or when the promotion expired and no ``reason`` is given.
        """
        if self.previous is not None:
            raise RedemptionRefused(self.already_text(), "redeemed", self.previous)
        reason = reason.strip()
        expired = self.is_expired(now)
        if expired and not reason:
            raise RedemptionRefused(self.expired_text(), "expired")
        try:
            with transaction.atomic():
                redemption = Redemption.objects.create(
                    promotion=self.promotion,
                    campaign=self.campaign,
                    message=self.message,
                    contact=self.contact,
                    phone=self.phone,
                    code=self.code if self.message is not None and self.message.code else "",
                    redeemed_at=now,
                    redeemed_by=(by.strip() or "mostrador")[:150],
                    override_reason=reason if expired else "",
                )
                if self.campaign is not None:
                    Campaign.objects.filter(pk=self.campaign.pk).update(
                        redeemed_count=F("redeemed_count") + 1
                    )
        except IntegrityError:
            # Someone else redeemed it between the look-up and now: theirs stands.
            self.previous = Redemption.objects.filter(promotion=self.promotion, phone=self.phone).first()
            if self.previous is None:
                raise
            raise RedemptionRefused(self.already_text(), "redeemed", self.previous) from None
        log.info("promotion %s redeemed for %s by %s", self.promotion.code, mask_phone(self.phone), by)
        return redemption


def redeemable(message: Message, promotion: Promotion, code: str) -> Redeemable:
    phone = message.phone or ""
    return Redeemable(
        promotion=promotion,
        phone=phone,
        name=message.contact_name,
        code=code,
        message=message,
        campaign=message.campaign,
        contact=message.contact,
        previous=Redemption.objects.filter(promotion=promotion, phone=phone).first(),
    )


def find_by_code(typed: str) -> Redeemable:
    """The person whose own code was typed; RedemptionRefused (``unknown``) if there is none.

    The code is looked up as typed and with the dash before its suffix put back; the answer
    names it as typed, so staff read back what they wrote.
    """
    shown, code = compact_code(typed), normalize_code(typed)
    if not code:
        raise RedemptionRefused("Escriba el código del cliente.", "invalid")
    message = (
        Message.objects.exclude(code="")
        .filter(code__in={shown, code}, status__in=RECEIVED)
        .select_related("campaign__promotion", "campaign__sender", "contact")
        .first()
    )
    if message is None:
        if Promotion.objects.filter(code__iexact=shown).exists():
            raise RedemptionRefused(
                f"{shown} es el código de la promoción, el mismo para todos: busque al cliente por "
                "su teléfono.",
                "unknown",
            )
        raise RedemptionRefused(f"No existe el código {shown}: revise cómo está escrito.", "unknown")
    code = message.code
    return redeemable(message, message.campaign.promotion, code)


def find_by_phone(raw_phone: str, promotion_code: str) -> Redeemable:
    """The person at ``raw_phone`` who was sent the promotion ``promotion_code``.

    The campaign is the one that last sent that promotion to that phone.
    """
    try:
        phone = normalize_phone(raw_phone)
    except InvalidPhone as exc:
        raise RedemptionRefused(f"Teléfono {raw_phone!r}: {exc}", "invalid") from None
    code = promotion_code.strip().upper()
    promotion = Promotion.objects.filter(code__iexact=code).first()
    if promotion is None:
        raise RedemptionRefused(f"No existe la promoción {code}.", "unknown")
    message = (
        Message.objects.filter(campaign__promotion=promotion, phone=phone, status__in=RECEIVED)
        .select_related("campaign__sender", "contact")
        .order_by(F("sent_at").desc(nulls_last=True), "-id")
        .first()
    )
    if message is None:
        raise RedemptionRefused(
            f"No se envió la promoción {promotion.code} al {phone}: revise el número.", "unknown"
        )
    return redeemable(message, promotion, message.code or promotion.code)


def promotions_sent_to(raw_phone: str) -> list[Promotion]:
    """The promotions sent to a phone, newest first: what the counter may choose from."""
    try:
        phone = normalize_phone(raw_phone)
    except InvalidPhone as exc:
        raise RedemptionRefused(f"Teléfono {raw_phone!r}: {exc}", "invalid") from None
    ids = Message.objects.filter(phone=phone, status__in=RECEIVED).values("campaign__promotion_id")
    return list(Promotion.objects.filter(pk__in=ids).order_by("-valid_until", "code"))
