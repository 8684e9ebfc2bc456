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

from django.utils.translation import gettext, gettext_noop, pgettext

from goteo.conf import env_str

DEFAULT_PROFILE = "co"

Hours = tuple[time, time]


def day_labels() -> list[str]:
    """The weekdays in the plural (Monday first), as in "los sábados"."""
    return [
        pgettext("días de la semana, en plural", "lunes"),
        pgettext("días de la semana, en plural", "martes"),
        pgettext("días de la semana, en plural", "miércoles"),
        pgettext("días de la semana, en plural", "jueves"),
        pgettext("días de la semana, en plural", "viernes"),
        pgettext("días de la semana, en plural", "sábados"),
        pgettext("días de la semana, en plural", "domingos"),
    ]


def nor(items: Iterable[str]) -> str:
    """ "sábados ni domingos": days or moments that are all excluded."""
    return pgettext("une días excluidos", " ni ").join(items)


@dataclass(frozen=True)
class Profile:
    """The legal sending rules of one country.

    ``hours`` has one entry per weekday (Monday first): the hours [start, end) in which
    promotions may go out that day, or None when they may not go out at all. A profile
    without rules has ``hours`` None.
    """

    code: str
    law: str  # in Spanish, marked for translation; ``law_name`` is the one to show
    hours: tuple[Hours | None, ...] | None
    holidays_country: str | None = None  # never on this country's public holidays
    opt_out_text_required: bool = False

    @property
    def law_name(self) -> str:
        """The law in the active language."""
        return gettext(self.law)

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
        """The rule in one sentence, e.g. for campaign_status and the docs."""
        if self.hours is None:
            return gettext("Sin regla legal de horario (perfil none).")
        labels = day_labels()
        parts = []
        for weekdays, hours in grouped_hours(self.hours):
            days = (
                labels[weekdays[0]]
                if len(weekdays) == 1
                else pgettext("rango de días", "%(first)s a %(last)s")
                % {"first": labels[weekdays[0]], "last": labels[weekdays[-1]]}
            )
            parts.append(gettext("%(days)s de %(start)s a %(end)s") % {"days": days, **span(hours)})
        never = [labels[d] for d, h in enumerate(self.hours) if h is None]
        text = gettext("%(law)s: promociones solo %(hours)s") % {
            "law": self.law_name,
            "hours": ", ".join(parts),
        }
        if never:
            text += gettext("; nunca %(days)s") % {"days": nor(never)}
        if self.holidays_country:
            text += gettext(" ni festivos")
        if self.opt_out_text_required:
            text += gettext("; cada mensaje debe ofrecer la baja")
        return text + "."


def span(hours: Hours) -> dict[str, str]:
    """``{"start": "07:00", "end": "19:00"}``, for the sentences above and below."""
    return {"start": f"{hours[0]:%H:%M}", "end": f"{hours[1]:%H:%M}"}


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
        law=gettext_noop("Ley 2300 de 2023 (Colombia)"),
        hours=(WEEKDAY_CO,) * 5 + (SATURDAY_CO, None),
        holidays_country="CO",
    ),
    # LSSI art. 21: consent and an opt-out in every message. Spain sets no hours for
    # written messages; the TRLGDCU art. 96.2 hours for commercial calls (09:00-21:00,
    # never weekends or public holidays) are applied as the prudent reading.
    "es": Profile(
        code="es",
        law=gettext_noop("LSSI art. 21 y TRLGDCU art. 96.2 (España)"),
        hours=(WEEKDAY_ES,) * 5 + (None, None),
        holidays_country="ES",
        opt_out_text_required=True,
    ),
    "none": Profile(code="none", law=gettext_noop("Sin perfil legal"), hours=None),
}


def get_profile(code: str) -> Profile:
    """The profile named ``code``; a clear error for an unknown name."""
    key = (code or "").strip().lower()
    if key not in PROFILES:
        raise ValueError(
            gettext("GOTEO_COMPLIANCE_PROFILE=%(code)s no existe; use %(choices)s.")
            % {"code": repr(code), "choices": ", ".join(PROFILES)}
        )
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
    labels = day_labels()
    law = profile.law_name
    window = {"window_start": f"{window_start:%H:%M}", "window_end": f"{window_end:%H:%M}"}
    days = sorted(set(weekdays))
    forbidden = [d for d in days if profile.hours_on(d) is None]
    if forbidden:
        names = nor(labels[d] for d in forbidden)
        found.append(
            Violation(
                "send_days",
                gettext("%(law)s: no se permite enviar promociones los %(days)s.")
                % {"law": law, "days": names},
            )
        )
    widest = profile.widest_hours()
    if widest and (window_start < widest[0] or window_end > widest[1]):
        found.append(
            Violation(
                "window_start",
                gettext(
                    "%(law)s: solo se permite enviar de %(start)s a %(end)s; "
                    "la ventana %(window_start)s-%(window_end)s se sale de ese horario."
                )
                % {"law": law, **span(widest), **window},
            )
        )
    else:
        for d in days:
            legal = profile.hours_on(d)
            if legal is not None and effective_hours(profile, d, window_start, window_end) is None:
                found.append(
                    Violation(
                        "window_start",
                        gettext(
                            "%(law)s: los %(day)s solo se permite enviar de %(start)s a %(end)s y la "
                            "ventana %(window_start)s-%(window_end)s no deja ninguna hora ese día."
                        )
                        % {"law": law, "day": labels[d], **span(legal), **window},
                    )
                )
    if profile.holidays_country and not skip_holidays:
        found.append(
            Violation(
                "skip_holidays",
                gettext("%(law)s: no se permite enviar promociones en festivos.") % {"law": law},
            )
        )
    if profile.opt_out_text_required and not has_opt_out_text:
        found.append(
            Violation(
                "opt_out_footer",
                gettext("%(law)s: cada mensaje debe ofrecer la baja; active el texto de baja.")
                % {"law": law},
            )
        )
    return found


def campaign_notices(
    profile: Profile, *, window_start: time, window_end: time, weekdays: Iterable[int]
) -> list[str]:
    """What the profile narrows without refusing, e.g. Saturdays ending at 15:00."""
    labels = day_labels()
    notices = []
    for d in sorted(set(weekdays)):
        hours = effective_hours(profile, d, window_start, window_end)
        if hours is not None and hours != (window_start, window_end):
            notices.append(
                gettext("Los %(day)s se envía solo de %(start)s a %(end)s (%(law)s).")
                % {"day": labels[d], **span(hours), "law": profile.law_name}
            )
    return notices


def day_limits(profile: Profile) -> tuple[Hours | None, ...] | None:
    """The per-weekday legal hours for ``SendingRules``; None when there is no rule."""
    return profile.hours
