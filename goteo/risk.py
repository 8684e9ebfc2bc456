"""Risk signals per sender: what goteo can see before WhatsApp restricts a number.

``assess`` turns a sender's recent activity into a level (ok, warning, bad) with the
reasons, as a pure function; ``sender_risk`` gathers that activity from the database;
``brake_if_risky`` stops a number whose level is bad, before WhatsApp blocks it.

Evidence counts from seven days ago, or from just after goteo's last risk brake of the
number or a person's lifting of a brake if that is later, so a person who resumes after a
brake is not braked again for the same evidence. The thresholds are below, documented in docs/compliance.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext, ngettext, pgettext

from goteo.models import Message, MessageStatus, Sender
from goteo.models.senders import LIFT
from goteo.schedule import end_of_day
from goteo.warmup import WarmupStage

OK, WARNING, BAD = "ok", "warning", "bad"
LEVELS = (OK, WARNING, BAD)
LEVEL_ICONS = {OK: "🟢", WARNING: "🟡", BAD: "🔴"}
RISK_SOURCE = "riesgo"  # how goteo's own brakes are marked in Sender.brake_log

EVIDENCE_DAYS = 7
BRAKE_DAYS = 14
MIN_ATTEMPTS = 10  # rates are judged only on at least this many finished messages
FAILURE_RATE = (0.10, 0.25)  # warning, bad
NOT_ON_WHATSAPP_RATE = (0.05, 0.15)
OPT_OUT_RATE = (0.02, 0.05)
BRAKES = (1, 2)
NEW_NUMBER_SENT = 50  # a number that sent fewer than this and is not warming up

# The codes goteo's transports give a recipient without WhatsApp (str(SendError) starts with
# "[code]"): gateways' exists:false, Meta 131026, Twilio 63003 and 63024.
NOT_ON_WHATSAPP_CODES = ("[exists:false]", "[131026]", "[63003]", "[63024]")
QUALITY_LEVELS = {"GREEN": OK, "YELLOW": WARNING, "RED": BAD}
HEALTH_LEVELS = {"AVAILABLE": OK, "LIMITED": WARNING, "BLOCKED": BAD}


@dataclass(frozen=True)
class Signal:
    """One thing seen about a number, its level and a sentence in the active language."""

    name: str
    level: str
    text: str


@dataclass(frozen=True)
class Risk:
    """A number's risk: the worst level among its signals, and every signal."""

    level: str
    signals: tuple[Signal, ...] = ()

    @property
    def label(self) -> str:
        return level_label(self.level)

    @property
    def reasons(self) -> list[str]:
        """The sentences behind the level (the signals that are not ok)."""
        return [s.text for s in self.signals if s.level != OK]

    def describe(self) -> str:
        """ "🔴 riesgo alto: 6 de 20 mensajes fallaron (30 %)"."""
        text = gettext("%(icon)s riesgo %(label)s") % {"icon": LEVEL_ICONS[self.level], "label": self.label}
        return f"{text}: {'; '.join(self.reasons)}" if self.reasons else text

    def as_dict(self) -> dict[str, Any]:
        """For --json and the dashboard."""
        return {
            "level": self.level,
            "label": self.label,
            "reasons": self.reasons,
            "signals": [{"name": s.name, "level": s.level, "text": s.text} for s in self.signals],
        }


@dataclass(frozen=True)
class Activity:
    """What a number did recently: the inputs of ``assess``."""

    finished: int = 0  # sent, failed or unknown since the evidence start
    sent: int = 0
    failed: int = 0
    not_on_whatsapp: int = 0
    opted_out: int = 0  # people who opted out after receiving a promotion from this number
    brakes: int = 0  # provider brakes, not goteo's own
    quality_rating: str = ""  # Cloud API: GREEN, YELLOW, RED
    health_status: str = ""  # Cloud API: AVAILABLE, LIMITED, BLOCKED
    warmup: WarmupStage | None = None
    sent_ever: int = 0


def level_label(level: str) -> str:
    """The level in words: "bien", "atención" or "alto" in Spanish."""
    labels = {
        OK: pgettext("nivel de riesgo", "bien"),
        WARNING: pgettext("nivel de riesgo", "atención"),
        BAD: pgettext("nivel de riesgo", "alto"),
    }
    return labels[level]


def level_for(value: float, thresholds: tuple[float, float]) -> str:
    warning, bad = thresholds
    return BAD if value >= bad else WARNING if value >= warning else OK


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole)


def assess(activity: Activity) -> Risk:
    """The risk level of a number from its activity, with one signal per thing seen."""
    a = activity
    signals: list[Signal] = []
    if a.finished >= MIN_ATTEMPTS:
        rate = a.failed / a.finished
        signals.append(
            Signal(
                "failure_rate",
                level_for(rate, FAILURE_RATE),
                gettext("%(failed)s de %(finished)s mensajes fallaron (%(percent)s %%)")
                % {"failed": a.failed, "finished": a.finished, "percent": percent(a.failed, a.finished)},
            )
        )
        signals.append(
            Signal(
                "not_on_whatsapp",
                level_for(a.not_on_whatsapp / a.finished, NOT_ON_WHATSAPP_RATE),
                gettext("%(count)s de %(finished)s destinatarios sin WhatsApp (%(percent)s %%)")
                % {
                    "count": a.not_on_whatsapp,
                    "finished": a.finished,
                    "percent": percent(a.not_on_whatsapp, a.finished),
                },
            )
        )
    if a.sent >= MIN_ATTEMPTS:
        signals.append(
            Signal(
                "opt_out_rate",
                level_for(a.opted_out / a.sent, OPT_OUT_RATE),
                gettext("%(count)s de %(sent)s personas se dieron de baja (%(percent)s %%)")
                % {"count": a.opted_out, "sent": a.sent, "percent": percent(a.opted_out, a.sent)},
            )
        )
    signals.append(
        Signal(
            "brakes",
            level_for(a.brakes, BRAKES),
            brakes_text(a.brakes),
        )
    )
    if a.quality_rating:
        signals.append(
            Signal(
                "quality_rating",
                QUALITY_LEVELS.get(a.quality_rating.upper(), OK),
                gettext("calidad del número en Meta: %(rating)s") % {"rating": a.quality_rating.upper()},
            )
        )
    if a.health_status:
        signals.append(
            Signal(
                "health_status",
                HEALTH_LEVELS.get(a.health_status.upper(), OK),
                gettext("estado de envío en Meta: %(status)s") % {"status": a.health_status.upper()},
            )
        )
    if a.warmup is not None:
        signals.append(
            Signal("warmup", OK, gettext("en calentamiento, %(stage)s") % {"stage": a.warmup.describe()})
        )
    elif a.sent_ever < NEW_NUMBER_SENT:
        signals.append(
            Signal(
                "warmup",
                WARNING,
                ngettext(
                    "número con poco historial (%(sent)s enviado) y sin calentamiento: "
                    "si es nuevo, ponga la fecha en que empezó a usarse en «En calentamiento desde» del número",
                    "número con poco historial (%(sent)s enviados) y sin calentamiento: "
                    "si es nuevo, ponga la fecha en que empezó a usarse en «En calentamiento desde» del número",
                    a.sent_ever,
                )
                % {"sent": a.sent_ever},
            )
        )
    level = max((s.level for s in signals), key=LEVELS.index, default=OK)
    return Risk(level, tuple(signals))


def brakes_text(brakes: int) -> str:
    """The provider brakes of the last BRAKE_DAYS days, in words."""
    if not brakes:
        return gettext("sin frenos recientes")
    return ngettext(
        "%(count)s freno del proveedor en %(days)s días",
        "%(count)s frenos del proveedor en %(days)s días",
        brakes,
    ) % {"count": brakes, "days": BRAKE_DAYS}


def last_risk_brake(sender: Sender) -> datetime | None:
    """When goteo last braked this number for its risk, or a person lifted a brake of it."""
    moments = [
        parse_moment(e.get("at"))
        for e in sender.brake_log or []
        if e.get("source") == RISK_SOURCE or e.get("kind") == LIFT
    ]
    found = [m for m in moments if m is not None]
    return max(found) if found else None


def parse_moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def sender_activity(sender: Sender, now: datetime) -> Activity:
    """A number's activity since its evidence start (``senders_activity`` for one)."""
    return senders_activity([sender], now)[sender.pk]


def senders_activity(senders: Iterable[Sender], now: datetime) -> dict[int, Activity]:
    """Each number's activity since its evidence start, by sender id.

    Three queries, grouped by number, for one number or a hundred (a worker checks all of
    its numbers at start-up), and one more for each number that is not warming up and sent
    fewer than NEW_NUMBER_SENT in the period. Each starts from recently claimed messages
    (indexed by status and claim time), so its cost follows the numbers' recent sends, not
    the size of their campaigns.
    """
    senders = list(senders)
    resets = {sender.pk: last_risk_brake(sender) for sender in senders}
    starts = {pk: later(now - timedelta(days=EVIDENCE_DAYS), reset) for pk, reset in resets.items()}
    recent_q, opted_out_q = Q(pk__in=[]), Q(pk__in=[])
    for since in set(starts.values()):  # usually one: the same seven days for every number
        ids = [pk for pk, start in starts.items() if start == since]
        recent_q |= Q(campaign__sender_id__in=ids, claimed_at__gt=since)
        opted_out_q |= Q(campaign__sender_id__in=ids, contact__opted_out_at__gt=since)
    recent = Message.objects.filter(
        recent_q,
        status__in=[MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.UNKNOWN],
        # The earliest start again, outside the alternatives, so that every database
        # bounds its scan of the (status, claimed_at) index with it.
        claimed_at__gt=min(starts.values(), default=now),
        claimed_at__lte=now,
    )
    by_status: dict[int, dict[str, int]] = {pk: {} for pk in starts}
    for sender_id, status, n in (
        recent.values_list("campaign__sender_id", "status").annotate(n=Count("id")).order_by()
    ):
        by_status[sender_id][status] = n
    not_on_whatsapp = dict.fromkeys(starts, 0)
    failed = recent.filter(status=MessageStatus.FAILED).values_list("campaign__sender_id", "last_error")
    for sender_id, error in failed.order_by():
        not_on_whatsapp[sender_id] += is_not_on_whatsapp(error)
    opted_out = dict(
        recent.filter(opted_out_q, status=MessageStatus.SENT, contact__opted_out=True)
        .values_list("campaign__sender_id")
        .annotate(n=Count("contact_id", distinct=True))
        .order_by()
    )
    return {
        sender.pk: activity_of(
            sender,
            now,
            resets[sender.pk],
            by_status[sender.pk],
            not_on_whatsapp=not_on_whatsapp[sender.pk],
            opted_out=opted_out.get(sender.pk, 0),
        )
        for sender in senders
    }


def later(moment: datetime, other: datetime | None) -> datetime:
    return other if other is not None and other > moment else moment


def activity_of(
    sender: Sender,
    now: datetime,
    reset: datetime | None,
    by_status: dict[str, int],
    *,
    not_on_whatsapp: int,
    opted_out: int,
) -> Activity:
    """One number's Activity from what ``senders_activity`` read and its own row; ``reset``
    is goteo's last risk brake of the number."""
    brakes_since = later(now - timedelta(days=BRAKE_DAYS), reset)
    brakes = sum(
        1
        for e in sender.brake_log or []
        if e.get("source") != RISK_SOURCE
        and e.get("kind") != LIFT
        and (at := parse_moment(e.get("at")))
        and brakes_since < at <= now
    )
    extra = (sender.health or {}).get("extra") or {}
    warmup = sender.warmup_stage(sender.local_day(now))
    sent = by_status.get(MessageStatus.SENT, 0)
    sent_ever = 0
    if warmup is None and sent >= NEW_NUMBER_SENT:
        sent_ever = NEW_NUMBER_SENT  # where the count below stops: the period alone reaches it
    elif warmup is None:
        # Only "fewer than NEW_NUMBER_SENT" matters: stop counting there, not at millions.
        all_sent = Message.objects.filter(campaign__sender=sender, status=MessageStatus.SENT)
        sent_ever = all_sent.order_by().values("id")[:NEW_NUMBER_SENT].count()
    return Activity(
        finished=sum(by_status.values()),
        sent=sent,
        failed=by_status.get(MessageStatus.FAILED, 0),
        not_on_whatsapp=not_on_whatsapp,
        opted_out=opted_out,
        brakes=brakes,
        quality_rating=str(extra.get("quality_rating") or ""),
        health_status=str(extra.get("health_status") or ""),
        warmup=warmup,
        sent_ever=sent_ever,
    )


def is_not_on_whatsapp(error: str) -> bool:
    text = (error or "").strip()
    return text.startswith(NOT_ON_WHATSAPP_CODES) or "no tiene whatsapp" in text.lower()


def sender_risk(sender: Sender, now: datetime) -> Risk:
    """The number's risk now: level, label, reasons and every signal (``Risk.as_dict``)."""
    return assess(sender_activity(sender, now))


def brake_if_risky(sender: Sender, now: datetime, activity: Activity | None = None) -> Risk:
    """Brake a number whose risk is bad until the end of its day; its campaigns pause.

    A person resumes the campaigns after looking at the reasons; the evidence that caused
    the brake is not counted again. ``activity`` is the number's, when already read.
    """
    risk = assess(activity if activity is not None else sender_activity(sender, now))
    if risk.level == BAD and not sender.is_braked(now):
        reason = gettext("Riesgo alto de bloqueo: %(reasons)s") % {"reasons": "; ".join(risk.reasons)}
        sender.brake(reason[:300], end_of_day(now, sender.tz), now=now, source=RISK_SOURCE)
    return risk
