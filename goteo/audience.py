"""Who may receive a campaign: its audience, and who of it a launch messages.

A contact may receive when they consented, did not opt out, have a phone, and that phone
is not on an exclusion list, opted out by anyone who shares it, or a fixed line the shop
has not allowed (GOTEO_ALLOW_LANDLINES); a phone several contacts share is messaged once.
The rule is written twice here, side by side, for two needs: ``skip_reason_for`` and
``Recipients`` decide row by row, with the reason a launch records for everyone left out;
``sendable`` is the same rule as one query, for counts and previews that must not read
every contact. tests/test_audience.py checks that both agree on every combination.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from goteo.models import Campaign, Contact, ExcludedPhone, Segment, SkipReason
from goteo.models.messages import landlines_allowed

READ_CHUNK = 2000
# What a launch reads of each contact in its audience, in the order Recipients.reason takes it.
AUDIENCE_FIELDS = ("id", "full_name", "phone", "consent", "opted_out", "landline")


class AudienceError(ValueError):
    """An audience that names no contacts the way goteo understands; the message says why."""


SEGMENT = "segment:"


def audience(campaign: Campaign, now: datetime | None = None, today: date | None = None) -> QuerySet[Contact]:
    """The contacts a campaign's audience names: ``all``, ``tag:NAME`` or ``segment:NAME``.

    A segment's relative dates count from ``today``: by default the day it is at ``now``
    (the clock when not given) where the campaign's number sends.
    """
    spec = (campaign.audience or "all").strip()
    if spec == "all":
        return Contact.objects.all()
    if spec.startswith("tag:") and spec[4:].strip():
        return Contact.objects.filter(tags__name=spec[4:].strip()).distinct()
    if spec.startswith(SEGMENT) and spec[len(SEGMENT) :].strip():
        segment = segment_named(spec[len(SEGMENT) :].strip())
        if today is None:
            moment = now or timezone.now()
            today = campaign.local_today(moment) if campaign.sender_id else timezone.localdate(moment)
        return segment.contacts(today)
    raise AudienceError(f"Audiencia desconocida {spec!r}; use 'all', 'tag:NOMBRE' o 'segment:NOMBRE'.")


def segment_named(name: str) -> Segment:
    """The saved segment called ``name``; AudienceError names the ones that exist."""
    segment = Segment.objects.filter(name=name).first()
    if segment is None:
        known = ", ".join(Segment.objects.values_list("name", flat=True)[:20]) or "ninguno todavía"
        raise AudienceError(f"No existe el segmento «{name}» (segmentos: {known}).")
    return segment


def skip_reason_for(
    consent: bool,
    opted_out: bool,
    phone: str,
    excluded: Container[str] = frozenset(),
    opted_out_phones: Container[str] = frozenset(),
    landline: bool = False,
) -> str:
    """Why a contact cannot receive the promotion, or "" when it may.

    A phone someone opted out from is opted out for everyone who shares it, as
    ``Contact.opt_out`` skips that phone's pending messages. Sharing a phone with
    another contact is decided by ``phone_holders``. ``landline`` is true only for a
    fixed line the shop has not allowed (GOTEO_ALLOW_LANDLINES).
    """
    if opted_out or (phone and phone in opted_out_phones):
        return SkipReason.OPTED_OUT
    if phone and phone in excluded:
        return SkipReason.EXCLUDED
    if not consent:
        return SkipReason.NO_CONSENT
    if not phone:
        return SkipReason.INVALID_PHONE
    if landline:
        return SkipReason.LANDLINE
    return ""


@dataclass
class Recipients:
    """Who of an audience may receive, decided once per launch before any row is written.

    ``excluded`` and ``opted_out`` are the audience's phones on an exclusion list or
    opted out from by any contact. ``holders`` names, for each phone several contacts
    share, the one whose row keeps it, since (campaign, phone) is unique: the first of
    them who may receive, so whoever consented gets the message whatever the order; if
    nobody may, the first. ``taken`` records the phones given out so far.
    """

    excluded: set[str]
    opted_out: set[str]
    holders: dict[str, int]
    taken: set[str] = field(default_factory=set)
    skip_landlines: bool = True

    @classmethod
    def load(cls, contacts: QuerySet[Contact]) -> Recipients:
        phones = contacts.exclude(phone="").values("phone")
        excluded = ExcludedPhone.objects.filter(phone__in=phones).values_list("phone", flat=True)
        gone = Contact.objects.filter(opted_out=True, phone__in=phones).values_list("phone", flat=True)
        recipients = cls(set(excluded), set(gone), {}, skip_landlines=not landlines_allowed())
        # Shared phones are few: one grouped query finds them (a phone a join counts
        # twice only makes its one contact the holder).
        shared = contacts.exclude(phone="").order_by().values("phone").annotate(n=Count("pk")).filter(n__gt=1)
        rows = contacts.filter(phone__in=shared.values("phone")).order_by("id")
        receiving: set[str] = set()
        fields = ("id", "phone", "consent", "opted_out", "landline")
        for contact_id, phone, consent, opted_out, landline in rows.values_list(*fields):
            if phone in receiving:
                continue
            if recipients.may_receive(phone, consent, opted_out, landline):
                receiving.add(phone)
                recipients.holders[phone] = contact_id
            else:
                recipients.holders.setdefault(phone, contact_id)
        return recipients

    def may_receive(self, phone: str, consent: bool, opted_out: bool, landline: bool) -> bool:
        """Whether, sharing aside, this contact may receive the promotion."""
        landline = landline and self.skip_landlines
        return not skip_reason_for(consent, opted_out, phone, self.excluded, self.opted_out, landline)

    def reason(self, contact_id: int, phone: str, consent: bool, opted_out: bool, landline: bool) -> str:
        """Why this contact gets a skipped row, or "" when it gets the message.

        Call it once per contact, in the order the rows are written: a contact that
        keeps its phone takes it, and any later contact with that phone (one a
        concurrent import added, say) is a duplicate, never a second row for it.
        """
        if phone and (self.holders.get(phone, contact_id) != contact_id or phone in self.taken):
            return SkipReason.DUPLICATE_PHONE
        if phone:
            self.taken.add(phone)
        landline = landline and self.skip_landlines
        return skip_reason_for(consent, opted_out, phone, self.excluded, self.opted_out, landline)


def preview_recipients(
    campaign: Campaign, limit: int, now: datetime | None = None
) -> tuple[int, list[tuple[str, str]]]:
    """Before launching: how many contacts can receive it, and the first ``limit`` of them."""
    contacts = audience(campaign, now=now)
    recipients = Recipients.load(contacts)
    first: list[tuple[str, str]] = []
    sendable = 0
    rows = contacts.order_by("id").values_list(*AUDIENCE_FIELDS)
    for contact_id, full_name, phone, consent, opted_out, landline in rows.iterator(chunk_size=READ_CHUNK):
        if recipients.reason(contact_id, phone, consent, opted_out, landline):
            continue
        sendable += 1
        if len(first) < limit:
            first.append((full_name, phone))
    return sendable, first


def sendable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts of ``contacts`` that may receive, sharing aside, as one query:
    ``skip_reason_for``'s rule."""
    opted_out_phones = Contact.objects.filter(opted_out=True).exclude(phone="").values("phone")
    may = (
        contacts.filter(consent=True, opted_out=False)
        .exclude(phone="")
        .exclude(phone__in=ExcludedPhone.objects.values("phone"))
        .exclude(phone__in=opted_out_phones)
    )
    return may if landlines_allowed() else may.exclude(landline=True)


def reachable_count(contacts: QuerySet[Contact]) -> int:
    """How many messages a launch would queue: one per distinct phone that may receive."""
    return sendable(contacts).values("phone").distinct().count()
