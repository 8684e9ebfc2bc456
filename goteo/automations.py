"""Automations: standing campaigns that enroll, run after run, whoever their trigger names today.

An automation is a Campaign with a ``trigger`` (goteo.triggers). Each run (process_campaigns,
or the worker's housekeeping every few minutes) enrolls the people of its audience who are
newly due: one ordinary Message per person and occurrence, with the occurrence (the year of a
birthday, the date a reminder counts from) and a deadline. The engine then sends them like any
other message, under the same caps, windows, legal hours, frequency cap, brakes and opt-outs.

Once per occurrence: a run holds the campaign's row while it reads who is enrolled and writes
who is missing, so concurrent runs take turns; the unique constraint on (campaign, contact,
occurrence) is the backstop, never hidden by an ON CONFLICT. A message still pending at its
deadline is skipped, «pasó el plazo para enviarlo», and the claim never takes one past it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError
from django.db.models import F, QuerySet

from goteo.audience import READ_CHUNK, AudienceError, Recipients, audience
from goteo.content import Content
from goteo.launch import LaunchError, LaunchResult, PersonCodes, campaign_launch, launch_checks
from goteo.models import Campaign, CampaignStatus, Contact, Message, MessageStatus, SkipReason
from goteo.triggers import BIRTHDAY, Due, Trigger, TriggerError, parse_trigger
from goteo.writes import write_transaction

log = logging.getLogger("goteo.automations")

# What an enrollment reads of each candidate.
CANDIDATE_FIELDS = (
    "id",
    "full_name",
    "phone",
    "consent",
    "opted_out",
    "landline",
    "birth_date",
    "last_visit",
)


def launch(campaign: Campaign, now: datetime, *, simulate: bool = False) -> LaunchResult:
    """Start a campaign or an automation, whichever it is (the start button, start_campaign,
    a scheduled start)."""
    if campaign.is_automation:
        return start_automation(campaign, now, simulate=simulate)
    return campaign_launch(campaign, now, simulate=simulate)


def trigger_of(campaign: Campaign) -> Trigger:
    """The campaign's trigger; LaunchError when it cannot be read."""
    try:
        return parse_trigger(campaign.trigger)
    except TriggerError as exc:
        raise LaunchError(str(exc)) from None


def start_automation(campaign: Campaign, now: datetime, *, simulate: bool = False) -> LaunchResult:
    """Check it as a launch would, make it active, and enroll whoever is due today.

    Raises goteo.launch.LaunchError with the reason in Spanish when it cannot start. The
    activation and the first enrollment are one transaction: a failed enrollment leaves it
    as it was.
    """
    launch_checks(campaign, now, simulate)
    trigger_of(campaign)
    try:
        audience(campaign, today=campaign.local_today(now))
    except AudienceError as exc:
        raise LaunchError(str(exc)) from None
    with write_transaction():
        waiting = [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
        claimed = Campaign.objects.filter(pk=campaign.pk, status__in=waiting).update(
            status=CampaignStatus.ACTIVE, started_at=now, simulation=simulate
        )
        if claimed != 1:
            raise LaunchError(f"La campaña {campaign.pk} ya fue iniciada.")
        campaign.status, campaign.started_at, campaign.simulation = CampaignStatus.ACTIVE, now, simulate
        result = enroll(campaign, now)
    campaign.refresh_from_db()
    result.total = campaign.total_count
    if campaign.daily_limit_warning:
        result.warnings.append(campaign.daily_limit_warning)
    return result


@dataclass(frozen=True)
class Candidate:
    """A person of the audience due for an occurrence they are not enrolled in."""

    contact_id: int
    name: str
    phone: str
    consent: bool
    opted_out: bool
    landline: bool
    due: Due


def candidates(campaign: Campaign, trigger: Trigger, today: date) -> QuerySet[Contact]:
    """The audience, narrowed to who the trigger may name today."""
    return audience(campaign, today=today).filter(trigger.query(today, campaign.grace_days))


def newly_due(campaign: Campaign, trigger: Trigger, today: date, limit: int | None = None) -> list[Candidate]:
    """Who is due today and not yet enrolled for that occurrence: the longest due first, then
    in contact order; at most ``limit`` of them.

    A reminder reads its contacts oldest date first and stops at ``limit``: a shop whose
    patients mostly last came years ago has tens of thousands due, and a run reads only the
    few it may enroll (bench/enroll_automation.py).
    """
    contacts = candidates(campaign, trigger, today)
    enrolled = set(
        Message.objects.filter(campaign_id=campaign.pk, contact_id__in=contacts.values("id"))
        .order_by()
        .values_list("contact_id", "occurrence")
    )
    found: list[Candidate] = []
    order = ("id",) if trigger.kind == BIRTHDAY else (trigger.field, "id")
    rows = contacts.order_by(*order).values_list(*CANDIDATE_FIELDS).iterator(chunk_size=READ_CHUNK)
    for contact_id, name, phone, consent, opted_out, landline, born, visited in rows:
        due = trigger.due(trigger.date_of(born, visited), today, campaign.grace_days)
        if due is not None and (contact_id, due.key) not in enrolled:
            found.append(Candidate(contact_id, name, phone, consent, opted_out, landline, due))
            if limit is not None and len(found) >= limit:
                break
    found.sort(key=lambda c: c.due.day)  # stable: contact order within a day
    return found


def reminder_room(campaign: Campaign, trigger: Trigger, today: date) -> int | None:
    """How many more a days-since reminder may enroll to be sent (None: no bound).

    Starting a yearly reminder finds everyone whose date is years old due at once; enrolling
    them all would skip most of them late, for good. So a reminder enrolls at most what its
    daily limit can send on its sending days within the grace period, less what is already
    pending; the others stay due and are enrolled on later runs. A birthday is due only for
    its grace period, so everyone due is enrolled (and skipped late, with the reason, if the
    limit cannot reach them).
    """
    if trigger.kind == BIRTHDAY:
        return None
    days = sum(
        1
        for n in range(campaign.grace_days + 1)
        if (today + timedelta(days=n)).weekday() in campaign.weekdays
    )
    pending = Campaign.objects.filter(pk=campaign.pk).values_list("pending_count", flat=True).get()
    return max(0, campaign.daily_limit * days - pending)


def deadline_of(campaign: Campaign, trigger: Trigger, due: Due, today: date) -> datetime:
    """The end of the message's last day, in the number's time zone."""
    last = trigger.last_day(due, today, campaign.grace_days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=campaign.sender.tz)


def hold(campaign_id: int) -> bool:
    """Lock the automation's row for this transaction; False when it is not active.

    Concurrent enrollments of one automation take turns here (tests swap it for a version
    without the lock to show what it prevents).
    """
    return (
        Campaign.objects.select_for_update()
        .filter(pk=campaign_id, status=CampaignStatus.ACTIVE)
        .values_list("pk", flat=True)
        .first()
        is not None
    )


def enroll(campaign: Campaign, now: datetime) -> LaunchResult:
    """One run of one active automation: a message for each person newly due (once per
    occurrence), a skipped row with the reason for each who may not receive it.

    A paused, cancelled or finished automation enrolls nobody; one whose promotion or end
    is over neither (the expiry ends it). Runs in one transaction: a failure leaves nobody
    half-enrolled.
    """
    result = LaunchResult()
    if campaign.status != CampaignStatus.ACTIVE or campaign.is_over(now):
        return result
    trigger = trigger_of(campaign)
    today = campaign.local_today(now)
    skip_moved(campaign, trigger, now)
    text_for = Content.of(campaign).texts(campaign.pk, campaign.unique_codes)
    with write_transaction():
        if not hold(campaign.pk):
            return result
        rows: list[Message] = []
        for person, reason in plan(campaign, trigger, today):
            rows.append(message_for(campaign, trigger, person, reason, today, now))
            if reason:
                result.skipped[reason] += 1
            else:
                result.pending += 1
        if not rows:
            return result
        if campaign.unique_codes and result.pending:
            codes = iter(PersonCodes(campaign.promotion.code, campaign.pk).fresh(result.pending))
            for row in rows:
                if row.status == MessageStatus.PENDING:
                    row.code = next(codes)
                    row.rendered_text = text_for(row.contact_id, row.contact_name, row.code)
        else:
            for row in rows:
                if row.status == MessageStatus.PENDING:
                    row.rendered_text = text_for(row.contact_id, row.contact_name, "")
        try:
            Message.objects.bulk_create(rows, batch_size=500)
        except IntegrityError:
            if not campaign.unique_codes:
                raise  # the same person twice for one occurrence: a bug, never hidden
            raise LaunchError(
                "No se pudieron asignar los códigos; se intentará en la próxima vuelta."
            ) from None
        skipped = sum(result.skipped.values())
        Campaign.objects.filter(pk=campaign.pk).update(
            total_count=F("total_count") + len(rows),
            pending_count=F("pending_count") + result.pending,
            skipped_count=F("skipped_count") + skipped,
        )
        result.total = len(rows)
    return result


def plan(campaign: Campaign, trigger: Trigger, today: date) -> list[tuple[Candidate, str]]:
    """Who a run enrolls today, each with why they get a skipped row ("": they get the message)."""
    room = reminder_room(campaign, trigger, today)
    if room == 0:
        return []  # a reminder with its grace period's sends all taken: the due wait their turn
    due = newly_due(campaign, trigger, today, limit=room)
    if not due:
        return []
    recipients = Recipients.load(candidates(campaign, trigger, today))
    taken = set(
        Message.objects.filter(campaign_id=campaign.pk, phone__in=[c.phone for c in due if c.phone])
        .order_by()
        .values_list("phone", "occurrence")
    )
    planned: list[tuple[Candidate, str]] = []
    sending = 0
    for person in due:
        if room is not None and sending >= room:
            break  # the rest wait, not enrolled, for a run with room: none is skipped late in bulk
        reason = recipients.reason(
            person.contact_id, person.phone, person.consent, person.opted_out, person.landline
        )
        if (person.phone, person.due.key) in taken:
            reason = SkipReason.DUPLICATE_PHONE  # another contact with this phone had it
        planned.append((person, str(reason)))
        sending += not reason
    return planned


def message_for(
    campaign: Campaign, trigger: Trigger, person: Candidate, reason: str, today: date, now: datetime
) -> Message:
    """The person's message for their occurrence: pending (its text is written later), or
    skipped with ``reason`` as a launch records it."""
    message = Message(
        campaign_id=campaign.pk,
        contact_id=person.contact_id,
        contact_name=person.name,
        phone=person.phone or None,
        occurrence=person.due.key,
        deadline=deadline_of(campaign, trigger, person.due, today),
    )
    if reason:
        message.status, message.skip_reason, message.finished_at = MessageStatus.SKIPPED, reason, now
        message.rendered_text = ""
        if reason == SkipReason.DUPLICATE_PHONE:
            message.phone, message.last_error = None, f"mismo teléfono que otro contacto ({person.phone})"
    return message


def skip_moved(campaign: Campaign, trigger: Trigger, now: datetime) -> int:
    """Skip the pending reminders whose date changed since they were enrolled: «la fecha
    cambió». The new date is a new occurrence, enrolled when it is due. Birthdays keep theirs
    (the occurrence is the year)."""
    if trigger.kind == BIRTHDAY:
        return 0
    pending = Message.objects.filter(campaign_id=campaign.pk, status=MessageStatus.PENDING).filter(
        contact__isnull=False
    )
    moved = [
        pk
        for pk, occurrence, value in pending.values_list("pk", "occurrence", f"contact__{trigger.field}")
        if value is None or value.isoformat() != occurrence
    ]
    if not moved:
        return 0
    return Message.objects.filter(pk__in=moved).skip_pending(SkipReason.DATE_MOVED, now)


def skip_late(now: datetime, campaign_ids: list[int] | None = None) -> int:
    """Skip every pending message whose deadline passed: «pasó el plazo para enviarlo»."""
    late = Message.objects.filter(status=MessageStatus.PENDING, deadline__lte=now)
    if campaign_ids is not None:
        late = late.filter(campaign_id__in=campaign_ids)
    return late.skip_pending(SkipReason.LATE, now)


def due_today(campaign: Campaign, now: datetime) -> list[tuple[Contact, Due]]:
    """Who a run at ``now`` would enroll (the dry run): not yet enrolled for their occurrence."""
    if campaign.status != CampaignStatus.ACTIVE or campaign.is_over(now):
        return []
    planned = [person for person, _reason in plan(campaign, trigger_of(campaign), campaign.local_today(now))]
    contacts = Contact.objects.in_bulk([c.contact_id for c in planned])
    return [(contacts[c.contact_id], c.due) for c in planned if c.contact_id in contacts]


def run_automations(
    now: datetime, report: Callable[[str], None] | None = None, campaign_ids: list[int] | None = None
) -> int:
    """Enroll in every active automation (``campaign_ids``: only those) and skip what missed
    its grace period; how many were enrolled to be sent."""
    say = report or (lambda line: None)
    automations = Campaign.objects.filter(status=CampaignStatus.ACTIVE).exclude(trigger="")
    if campaign_ids is not None:
        automations = automations.filter(pk__in=campaign_ids)
    enrolled = 0
    for campaign in automations.select_related("promotion", "sender").order_by("id"):
        try:
            result = enroll(campaign, now)
        except (LaunchError, AudienceError) as exc:
            log.warning("automation %s could not enroll: %s", campaign.pk, exc)
            say(f"✖ {campaign.name}: no pudo sumar a nadie hoy ({exc}).")
            continue
        enrolled += result.pending
        if result.total:
            skipped = sum(result.skipped.values())
            say(f"🔁 {campaign.name}: {result.pending} por enviar hoy, {skipped} omitidos con su motivo.")
    late = skip_late(now, campaign_ids)
    if late:
        say(f"⌛ {late} mensajes de automatizaciones pasaron su plazo; se omiten.")
    return enrolled


def automation_fields(campaign: Campaign) -> dict[str, object]:
    """What campaign_status --json (and the API) say about a campaign's trigger."""
    label = ""
    if campaign.is_automation:
        try:
            label = parse_trigger(campaign.trigger).describe()
        except TriggerError:
            label = ""
    return {
        "automation": campaign.is_automation,
        "trigger": campaign.trigger,
        "trigger_label": label,
        "grace_days": campaign.grace_days,
    }
