"""Building automations for tests: a number, a promotion, people with dates, and the automation."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from goteo.models import Campaign, Contact, Promotion, Sender

EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"


def person(name: str, n: int, **fields) -> Contact:
    """A consenting contact with phone +57300500NNNN and the given dates."""
    fields.setdefault("consent", True)
    return Contact.objects.create(full_name=name, phone=f"+57300500{n:04d}", **fields)


def automation(
    trigger: str = "birthday",
    *,
    sender: Sender | None = None,
    time_zone: str = "America/Bogota",
    grace_days: int = 7,
    status: str = "draft",
    valid_until: date = date(2099, 12, 31),
    **fields,
) -> Campaign:
    """A draft automation sending every day, all day (the legal profile off in the test)."""
    if sender is None:
        sender = Sender.objects.create(
            name=f"n{Sender.objects.count()}", backend="memory", daily_cap=1000, time_zone=time_zone
        )
    promotion, _ = Promotion.objects.get_or_create(
        code="CUMPLE",
        defaults={"name": "Cumpleaños", "benefit": "20% de descuento", "valid_until": valid_until},
    )
    fields.setdefault("daily_limit", 100)
    fields.setdefault("delay_seconds", 0)
    fields.setdefault("window_start", time(0))
    fields.setdefault("window_end", time(23, 59))
    fields.setdefault("send_days", EVERY_DAY)
    fields.setdefault("skip_holidays", False)
    return Campaign.objects.create(
        name=f"Automatización {trigger}",
        promotion=promotion,
        sender=sender,
        template="¡Feliz día, {nombre}! {beneficio}",
        trigger=trigger,
        grace_days=grace_days,
        status=status,
        **fields,
    )


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0, tz: str = "America/Bogota") -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz))


def occurrences(campaign: Campaign) -> list[tuple[str, str, str]]:
    """(name, occurrence, status) of the automation's messages, in id order."""
    return list(campaign.messages.order_by("id").values_list("contact_name", "occurrence", "status"))
