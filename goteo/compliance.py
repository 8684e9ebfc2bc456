"""Legal sending hours per country: the installation's compliance profile.

A profile says on which weekdays, between which hours and whether on public holidays
promotions may go out, and whether every message must carry an opt-out text. It is
chosen per installation with GOTEO_COMPLIANCE_PROFILE (``co``, ``es`` or ``none``;
``co`` by default). Everything here is a pure function of its inputs except
``active_profile``, which reads the setting.

The profiles are our reading of each law, written down so the shop can check it; they
are information, not legal advice (see docs/compliance.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from goteo.conf import env_str

DAY_LABELS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábados", "domingos"]
DEFAULT_PROFILE = "co"

Hours = tuple[time, time]


@dataclass(frozen=True)
class Profile:
    """The legal sending rules of one country.

    ``hours`` has one entry per weekday (Monday first): the hours [start, end) in which
    promotions may go out that day, or None when they may not go out at all. A profile
    without rules has ``hours`` None.
    """

    code: str
    law: str
    hours: tuple[Hours | None, ...] | None
    holidays_country: str | None = None  # never on this country's public holidays
    opt_out_text_required: bool = False

    @property
    def is_legal_rule(self) -> bool:
        return self.hours is not None or self.holidays_country is not None

    def hours_on(self, weekday: int) -> Hours | None:
        """The allowed hours on ``weekday`` (0 is Monday), or None if never that day."""
        if self.hours is None:
            return (time(0), time.max)
        return self.hours[weekday]

    def widest_hours(self) -> Hours | None:
        """From the earliest start to the latest end over the allowed days."""
        if self.hours is None:
            return None
        allowed = [h for h in self.hours if h is not None]
        return min(h[0] for h in allowed), max(h[1] for h in allowed)

    def describe(self) -> str:
        """The rule in one Spanish sentence, e.g. for campaign_status and the docs."""
        if self.hours is None:
            return "Sin regla legal de horario (perfil none)."
        parts = []
        for weekdays, hours in grouped_hours(self.hours):
            days = (
                DAY_LABELS[weekdays[0]]
                if len(weekdays) == 1
                else f"{DAY_LABELS[weekdays[0]]} a {DAY_LABELS[weekdays[-1]]}"
            )
            parts.append(f"{days} de {hours[0]:%H:%M} a {hours[1]:%H:%M}")
        never = [DAY_LABELS[d] for d, h in enumerate(self.hours) if h is None]
        text = f"{self.law}: promociones solo {', '.join(parts)}"
        if never:
            text += f"; nunca {' ni '.join(never)}"
        if self.holidays_country:
            text += " ni festivos"
        if self.opt_out_text_required:
            text += "; cada mensaje debe ofrecer la baja"
        return text + "."


def grouped_hours(hours: tuple[Hours | None, ...]) -> list[tuple[list[int], Hours]]:
    """Consecutive weekdays with the same allowed hours, for describing a profile."""
    groups: list[tuple[list[int], Hours]] = []
    for weekday, day_hours in enumerate(hours):
        if day_hours is None:
            continue
        if groups and groups[-1][1] == day_hours and groups[-1][0][-1] == weekday - 1:
            groups[-1][0].append(weekday)
        else:
            groups.append(([weekday], day_hours))
    return groups


WEEKDAY_CO = (time(7), time(19))
SATURDAY_CO = (time(8), time(15))
WEEKDAY_ES = (time(9), time(21))

PROFILES: dict[str, Profile] = {
    # Ley 2300 de 2023, art. 5: Monday to Friday 07:00-19:00, Saturday 08:00-15:00, never
    # on Sundays or public holidays.
    "co": Profile(
        code="co",
        law="Ley 2300 de 2023 (Colombia)",
        hours=(WEEKDAY_CO,) * 5 + (SATURDAY_CO, None),
        holidays_country="CO",
    ),
    # LSSI art. 21: consent and an opt-out in every message. Spain sets no hours for
    # written messages; the TRLGDCU art. 96.2 hours for commercial calls (09:00-21:00,
    # never weekends or public holidays) are applied as the prudent reading.
    "es": Profile(
        code="es",
        law="LSSI art. 21 y TRLGDCU art. 96.2 (España)",
        hours=(WEEKDAY_ES,) * 5 + (None, None),
        holidays_country="ES",
        opt_out_text_required=True,
    ),
    "none": Profile(code="none", law="Sin perfil legal", hours=None),
}


def get_profile(code: str) -> Profile:
    """The profile named ``code``; a clear error for an unknown name."""
    key = (code or "").strip().lower()
    if key not in PROFILES:
        raise ValueError(f"GOTEO_COMPLIANCE_PROFILE={code!r} no existe; use {', '.join(PROFILES)}.")
    return PROFILES[key]


def active_profile() -> Profile:
    """The installation's profile: settings.GOTEO_COMPLIANCE_PROFILE, else the environment."""
    from django.conf import settings

    code = getattr(settings, "GOTEO_COMPLIANCE_PROFILE", None) or env_str(
        "GOTEO_COMPLIANCE_PROFILE", DEFAULT_PROFILE
    )
    return get_profile(code)


@dataclass(frozen=True)
class Violation:
    """One way a campaign's rules break the profile: the field and a sentence naming the law."""

    field: str
    message: str


def effective_hours(profile: Profile, weekday: int, start: time, end: time) -> Hours | None:
    """The campaign's window on ``weekday`` narrowed to the legal hours; None if nothing is left."""
    legal = profile.hours_on(weekday)
    if legal is None:
        return None
    begin, finish = max(start, legal[0]), min(end, legal[1])
    return (begin, finish) if begin < finish else None


def campaign_violations(
    profile: Profile,
    *,
    window_start: time,
    window_end: time,
    weekdays: Iterable[int],
    skip_holidays: bool,
    has_opt_out_text: bool,
) -> list[Violation]:
    """Why a campaign's window, days, holidays or opt-out text break ``profile``.

    The window must fit the profile's widest hours (07:00-19:00 under ``co``); on days
    with shorter legal hours (Saturdays under ``co``) it is narrowed, and refused only
    when nothing is left. Days the law never allows are refused.
    """
    if not profile.is_legal_rule:
        return []
    found: list[Violation] = []
    days = sorted(set(weekdays))
    forbidden = [d for d in days if profile.hours_on(d) is None]
    if forbidden:
        names = " ni ".join(DAY_LABELS[d] for d in forbidden)
        found.append(Violation("send_days", f"{profile.law}: no se permite enviar promociones los {names}."))
    widest = profile.widest_hours()
    if widest and (window_start < widest[0] or window_end > widest[1]):
        found.append(
            Violation(
                "window_start",
                f"{profile.law}: solo se permite enviar de {widest[0]:%H:%M} a {widest[1]:%H:%M}; "
                f"la ventana {window_start:%H:%M}-{window_end:%H:%M} se sale de ese horario.",
            )
        )
    else:
        for d in days:
            legal = profile.hours_on(d)
            if legal is not None and effective_hours(profile, d, window_start, window_end) is None:
                found.append(
                    Violation(
                        "window_start",
                        f"{profile.law}: los {DAY_LABELS[d]} solo se permite enviar de "
                        f"{legal[0]:%H:%M} a {legal[1]:%H:%M} y la ventana "
                        f"{window_start:%H:%M}-{window_end:%H:%M} no deja ninguna hora ese día.",
                    )
                )
    if profile.holidays_country and not skip_holidays:
        found.append(
            Violation(
                "skip_holidays",
                f"{profile.law}: no se permite enviar promociones en festivos.",
            )
        )
    if profile.opt_out_text_required and not has_opt_out_text:
        found.append(
            Violation(
                "opt_out_footer",
                f"{profile.law}: cada mensaje debe ofrecer la baja; active el texto de baja.",
            )
        )
    return found


def campaign_notices(
    profile: Profile, *, window_start: time, window_end: time, weekdays: Iterable[int]
) -> list[str]:
    """What the profile narrows without refusing, e.g. Saturdays ending at 15:00."""
    notices = []
    for d in sorted(set(weekdays)):
        hours = effective_hours(profile, d, window_start, window_end)
        if hours is not None and hours != (window_start, window_end):
            notices.append(
                f"Los {DAY_LABELS[d]} se envía solo de {hours[0]:%H:%M} a {hours[1]:%H:%M} ({profile.law})."
            )
    return notices


def day_limits(profile: Profile) -> tuple[Hours | None, ...] | None:
    """The per-weekday legal hours for ``SendingRules``; None when there is no rule."""
    return profile.hours
