"""Campaigns: one promotion sent gradually to an audience by one sender."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from goteo.compliance import Profile, Violation, active_profile, campaign_notices, campaign_violations
from goteo.models.lifecycle import CampaignStatus
from goteo.models.promotions import Promotion
from goteo.models.seed_names import COUNTED_STATUSES, SeedNames
from goteo.models.senders import Sender
from goteo.schedule import DAY_NAMES, SendingRules, parse_days
from goteo.templating import TemplateError, opt_out_footer, validate_provider_template, validate_template
from goteo.triggers import TriggerError, parse_trigger
from goteo.writes import write_transaction

DEFAULT_EMOJIS = "✨ 😊 🎉 👓 💙 🙌"
RECOMMENDED_DAILY_LIMIT = 30
MAX_GRACE_DAYS = 60  # an automation's message later than this is no longer the occasion's


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def expire(
        self, now: datetime, ids: list[int] | None = None, report: Callable[[str], None] | None = None
    ) -> int:
        """Skip what remains of the campaigns (``ids``, else all) whose promotion or own end is
        over; a line to ``report`` for each. Returns how many messages were skipped."""
        campaigns = self.filter(status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED])
        if ids is not None:
            campaigns = campaigns.filter(pk__in=ids)
        skipped = 0
        for campaign in campaigns.select_related("promotion", "sender"):
            if not campaign.is_over(now):
                continue
            with write_transaction():
                # Again under the promotion's lock: one moved later meanwhile (Promotion.revise,
                # which writes it first) keeps its messages.
                campaign.promotion = Promotion.objects.select_for_update().get(pk=campaign.promotion_id)
                if not campaign.is_over(now):
                    continue
                expired = campaign.is_expired(now)
                skipped += campaign.messages.expire(now, ended=not expired)
                Campaign.objects.filter(pk=campaign.pk, sending_count=0).update(
                    status=CampaignStatus.COMPLETED, finished_at=now
                )
            if report is not None:
                what = "la promoción venció" if expired else "la campaña terminó"
                report(f"⌛ {campaign.name}: {what}; lo pendiente se omite.")
        return skipped


class Campaign(SeedNames, models.Model):
    """A promotion, a template and the pacing rules it is sent with."""

    name = models.CharField(_("nombre"), max_length=200)
    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("promoción")
    )
    sender = models.ForeignKey(
        Sender, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("número")
    )
    template = models.TextField(_("plantilla"))
    emojis = models.CharField(
        _("emojis de cierre"),
        max_length=200,
        blank=True,
        default=DEFAULT_EMOJIS,
        help_text=_("Separados por espacios; uno al azar cierra cada mensaje."),
    )
    provider_template = models.JSONField(
        _("plantilla aprobada del proveedor"),
        default=dict,
        blank=True,
        help_text=_(
            'Para la Cloud API o Twilio: {"name": ..., "language": "es", "params": ["nombre", "codigo"]}'
        ),
    )
    audience = models.CharField(_("audiencia"), max_length=100, default="all")
    # An automation: a standing campaign that enrolls, run after run, whoever its trigger names
    # today (goteo.triggers, goteo.automations). Empty for a one-off campaign.
    trigger = models.CharField(
        _("disparador"),
        max_length=64,
        blank=True,
        db_column="trigger_spec",
        help_text=_("Vacío en una campaña; «birthday» o «days-since:last_visit:365» en una automatización."),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("días de gracia"),
        default=7,
        help_text=_("Si en estos días no se pudo enviar, el mensaje se omite: nunca llega tarde."),
    )
    status = models.CharField(
        _("estado"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    pause_reason = models.CharField(_("motivo de la pausa"), max_length=300, blank=True)
    unique_codes = models.BooleanField(
        _("un código por persona"),
        default=False,
        help_text=_("Cada persona recibe su propio código, que se canjea una sola vez."),
    )
    simulation = models.BooleanField(
        _("simulación"),
        default=False,
        help_text=_("Iniciada en modo de prueba: sus mensajes no salen por WhatsApp."),
    )
    daily_limit = models.PositiveIntegerField(_("límite diario"), default=20)
    delay_seconds = models.PositiveIntegerField(_("segundos entre mensajes"), default=10)
    window_start = models.TimeField(_("desde"), default=time(9, 0))
    window_end = models.TimeField(_("hasta"), default=time(19, 0))
    send_days = models.CharField(_("días de envío"), max_length=40, default="mon,tue,wed,thu,fri")
    skip_holidays = models.BooleanField(_("no enviar en festivos"), default=True)
    max_attempts = models.PositiveSmallIntegerField(_("intentos máximos"), default=3)
    opt_out_footer = models.BooleanField(
        _("añadir el texto de baja"),
        default=True,
        help_text=_('Al final de cada mensaje, p. ej. "Responde BAJA para no recibir más promociones".'),
    )

    total_count = models.PositiveIntegerField(_("total"), default=0, editable=False)
    pending_count = models.IntegerField(_("pendientes"), default=0, editable=False)
    sending_count = models.IntegerField(_("enviándose"), default=0, editable=False)
    sent_count = models.IntegerField(_("enviados"), default=0, editable=False)
    failed_count = models.IntegerField(_("fallidos"), default=0, editable=False)
    skipped_count = models.IntegerField(_("omitidos"), default=0, editable=False)
    unknown_count = models.IntegerField(_("sin confirmar"), default=0, editable=False)
    simulated_count = models.IntegerField(_("simulados"), default=0, editable=False)
    # The results funnel, moved as receipts, replies and redemptions arrive (never by a scan).
    delivered_count = models.IntegerField(_("entregados"), default=0, editable=False)
    read_count = models.IntegerField(_("leídos"), default=0, editable=False)
    replied_count = models.IntegerField(_("respondieron"), default=0, editable=False)
    redeemed_count = models.IntegerField(_("canjearon"), default=0, editable=False)
    opted_out_count = models.IntegerField(_("pidieron la baja"), default=0, editable=False)

    start_at = models.DateTimeField(
        _("empieza"),
        null=True,
        blank=True,
        help_text=_("Programada: no se envía nada antes de este momento."),
    )
    end_at = models.DateTimeField(
        _("termina"),
        null=True,
        blank=True,
        help_text=_("Lo que quede pendiente después se omite: «la campaña terminó»."),
    )

    created_at = models.DateTimeField(_("creada"), auto_now_add=True)
    started_at = models.DateTimeField(_("iniciada"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminada"), null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaña")
        verbose_name_plural = _("campañas")

    def __str__(self) -> str:
        return self.name

    # --- rules --------------------------------------------------------------------
    @property
    def weekdays(self) -> frozenset[int]:
        """Sending days as ``date.weekday()`` numbers (Monday is 0)."""
        return frozenset(DAY_NAMES.index(d) for d in parse_days(self.send_days))

    @property
    def daily_limit_warning(self) -> str:
        """A warning when the limit is above what is safe for a WhatsApp number."""
        if self.daily_limit > RECOMMENDED_DAILY_LIMIT:
            return (
                f"Límite diario de {self.daily_limit}: no se recomienda pasar de "
                f"{RECOMMENDED_DAILY_LIMIT} al día para evitar el bloqueo del número."
            )
        return ""

    def sending_rules(self) -> SendingRules:
        """The campaign's window, days and holidays, in its sender's time zone.

        The legal profile (goteo.compliance) narrows the window per weekday and adds its
        country's public holidays, whatever the campaign says.
        """
        profile = active_profile()
        country = getattr(settings, "GOTEO_HOLIDAYS_COUNTRY", "CO") if self.skip_holidays else None
        return SendingRules(
            window_start=self.window_start,
            window_end=self.window_end,
            weekdays=self.weekdays,
            tz=self.sender.tz,
            holidays_country=profile.holidays_country or country or None,
            day_limits=profile.hours,
        )

    def local_today(self, now: datetime) -> date:
        """The day it is at ``now`` where the campaign's sender sends."""
        return self.sender.local_day(now)

    def is_expired(self, now: datetime) -> bool:
        """True once the promotion's valid-until day is over in the sender's time zone."""
        return self.promotion.valid_until < self.local_today(now)

    def has_ended(self, now: datetime) -> bool:
        """True once the campaign's own end (``end_at``) has come."""
        return self.end_at is not None and self.end_at <= now

    def is_over(self, now: datetime) -> bool:
        """Nothing more may be sent: the promotion expired or the campaign's end came."""
        return self.is_expired(now) or self.has_ended(now)

    def starts_from(self, now: datetime) -> datetime:
        """The moment its forecast counts from: its start when that is still ahead, else ``now``."""
        return self.start_at if self.start_at is not None and self.start_at > now else now

    @property
    def is_automation(self) -> bool:
        """A standing campaign that enrolls people as its trigger names them (never completes alone)."""
        return bool(self.trigger)

    @property
    def counter_scope(self) -> str:
        return f"campaign:{self.pk}"

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        """The fields one by one, the templates too; a field a form already refused is left out,
        so its error is not followed by a second, wrong one about the value it kept."""

        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        skip = set(exclude or ()) | set(errors)
        if "template" not in skip:
            try:
                validate_template(self.template)
            except TemplateError as exc:
                errors["template"] = [str(exc)]
        if "provider_template" not in skip:
            try:
                self.provider_template = validate_provider_template(self.provider_template)
            except TemplateError as exc:
                errors["provider_template"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        try:
            parse_days(self.send_days)
        except ValueError as exc:
            raise ValidationError({"send_days": str(exc)}) from exc
        if self.window_start >= self.window_end:
            raise ValidationError({"window_end": _("La hora final debe ser posterior a la inicial.")})
        if self.daily_limit < 1:
            raise ValidationError({"daily_limit": _("El límite diario debe ser al menos 1.")})
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValidationError({"end_at": _("El final debe ser posterior al comienzo.")})
        if self.trigger:
            try:
                self.trigger = parse_trigger(self.trigger).spec
            except TriggerError as exc:
                raise ValidationError({"trigger": str(exc)}) from exc
        if self.grace_days > MAX_GRACE_DAYS:
            raise ValidationError(
                {"grace_days": _("Los días de gracia no pueden pasar de %(n)s.") % {"n": MAX_GRACE_DAYS}}
            )
        problems: dict[str, list[str]] = {}
        for violation in self.legal_problems():
            problems.setdefault(violation.field, []).append(violation.message)
        if problems:
            raise ValidationError(problems)

    def legal_problems(self, profile: Profile | None = None) -> list[Violation]:
        """How the window, days, holidays or opt-out text break the legal profile (goteo.compliance)."""

        return campaign_violations(
            profile or active_profile(),
            window_start=self.window_start,
            window_end=self.window_end,
            weekdays=self.weekdays,
            skip_holidays=self.skip_holidays,
            has_opt_out_text=bool(opt_out_footer(self.opt_out_footer)),
        )

    def legal_notices(self, profile: Profile | None = None) -> list[str]:
        """What the legal profile narrows without refusing, e.g. Saturdays until 15:00."""
        return campaign_notices(
            profile or active_profile(),
            window_start=self.window_start,
            window_end=self.window_end,
            weekdays=self.weekdays,
        )

    def pause_if_unlawful(self, profile: Profile | None = None) -> str:
        """Pause an active campaign the legal profile no longer allows; returns the reason or ""."""
        if self.status != CampaignStatus.ACTIVE:
            return ""
        problems = self.legal_problems(profile)
        if not problems:
            return ""
        reason = "Fuera del horario legal: " + " ".join(v.message for v in problems)
        return reason if self.pause(reason) else ""

    # --- counts -------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Messages per status, read from the counters kept on the campaign row."""
        return {s: getattr(self, f"{s}_count") for s in COUNTED_STATUSES} | {"total": self.total_count}

    @staticmethod
    def shift_count(campaign_id: int, from_status: str, to_status: str, n: int = 1) -> None:
        """Move ``n`` messages between two status counters (inside the same transaction)."""
        if n and from_status != to_status:
            Campaign.objects.filter(pk=campaign_id).update(
                **{
                    f"{from_status}_count": F(f"{from_status}_count") - n,
                    f"{to_status}_count": F(f"{to_status}_count") + n,
                }
            )

    def recount(self) -> dict[str, int]:
        """Rebuild the counters from the message table (a repair, not a hot path)."""
        rows = self.messages.values_list("status").annotate(n=models.Count("id"))
        found = dict.fromkeys(COUNTED_STATUSES, 0) | dict(rows)
        fields = {f"{s}_count": found[s] for s in COUNTED_STATUSES}
        Campaign.objects.filter(pk=self.pk).update(total_count=sum(found.values()), **fields)
        self.refresh_from_db()
        return self.counts()

    # --- verbs --------------------------------------------------------------------
    def pause(self, reason: str = "") -> bool:
        """Stop sending; pending messages wait. False when the campaign was not active."""
        changed = Campaign.objects.filter(pk=self.pk, status=CampaignStatus.ACTIVE).update(
            status=CampaignStatus.PAUSED, pause_reason=reason[:300]
        )
        self.refresh_from_db(fields=["status", "pause_reason"])
        return changed == 1

    def resume(self) -> bool:
        """Send again after a pause. False when the campaign was not paused."""
        changed = Campaign.objects.filter(pk=self.pk, status=CampaignStatus.PAUSED).update(
            status=CampaignStatus.ACTIVE, pause_reason=""
        )
        self.refresh_from_db(fields=["status", "pause_reason"])
        return changed == 1

    def cancel(self, now: datetime, by: str = "") -> int:
        """Stop for good: every pending message becomes skipped. Returns how many.

        ``by`` names who cancelled, in the messages' events.
        """
        with transaction.atomic():
            Campaign.objects.filter(
                pk=self.pk,
                status__in=[
                    CampaignStatus.DRAFT,
                    CampaignStatus.SCHEDULED,
                    CampaignStatus.ACTIVE,
                    CampaignStatus.PAUSED,
                ],
            ).update(status=CampaignStatus.CANCELLED, finished_at=now)
            skipped = self.messages.cancel(now, by=by)
        self.refresh_from_db()
        return skipped

    def requeue_failed(self, now: datetime, by: str = "") -> int:
        """Give failed messages another round of attempts (not to opted-out people).

        A cancelled campaign sends nothing more, so nothing is requeued there (returns 0).
        A completed one becomes active again. ``by`` names who asked, in the events.
        """
        if self.status in (CampaignStatus.CANCELLED, CampaignStatus.DRAFT):
            return 0
        n = self.messages.requeue_failed(now, by=by)
        self.refresh_from_db()
        return n

    def complete_if_done(self, now: datetime) -> bool:
        """Mark an active campaign completed once nothing is pending or in flight.

        An automation never completes this way: tomorrow may enroll someone new.
        """
        done = Campaign.objects.filter(
            pk=self.pk, status=CampaignStatus.ACTIVE, pending_count=0, sending_count=0, trigger=""
        ).update(status=CampaignStatus.COMPLETED, finished_at=now)
        if done:
            self.refresh_from_db(fields=["status", "finished_at"])
        return done == 1
