"""Senders: the WhatsApp numbers goteo sends from, each with its own daily cap."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goteo.conf import env_str
from goteo.models.lifecycle import CampaignStatus
from goteo.warmup import WarmupStage, warmup_cap, warmup_schedule, warmup_stage


class Backend(models.TextChoices):
    CONSOLE = "console", _("Prueba: no envía, los muestra en la pantalla del servidor")
    FILE = "file", _("Prueba: no envía, los guarda en un archivo")
    MEMORY = "memory", _("Prueba interna: no envía")
    CLOUD = "cloud", _("Meta WhatsApp Cloud API")
    TWILIO = "twilio", "Twilio"
    EVOLUTION = "evolution", "Evolution API"
    WAHA = "waha", "WAHA"


DEFAULT_SENDER_NAME = "principal"
BRAKE_LOG_SIZE = 20
LIFT = "lift"  # the kind of a brake_log entry that records a brake being lifted


class Sender(models.Model):
    """One WhatsApp number. Its daily cap holds across all the campaigns it sends."""

    name = models.CharField(_("nombre"), max_length=100, unique=True)
    backend = models.CharField(
        _("proveedor"), max_length=16, choices=Backend.choices, default=Backend.CONSOLE
    )
    from_environment = models.BooleanField(
        _("configurado por variables de entorno"),
        default=False,
        help_text=_("El proveedor y sus credenciales se leen de WHATSAPP_BACKEND y afines."),
    )
    config = models.JSONField(_("configuración"), default=dict, blank=True)
    secrets = models.JSONField(_("secretos"), default=dict, blank=True, editable=False)
    daily_cap = models.PositiveIntegerField(_("máximo diario del número"), default=30)
    time_zone = models.CharField(_("zona horaria"), max_length=64, blank=True)
    is_active = models.BooleanField(_("activo"), default=True)
    next_send_at = models.DateTimeField(_("próximo envío permitido"), null=True, blank=True)
    paused_until = models.DateTimeField(_("frenado hasta"), null=True, blank=True)
    pause_reason = models.CharField(_("motivo del freno"), max_length=300, blank=True)
    # The last connection check ({"connected", "detail", "extra", "checked_at"}), kept so
    # polling stays within the providers' request budgets (goteo.health).
    health = models.JSONField(_("estado de la conexión"), default=dict, blank=True, editable=False)
    warmup_started_on = models.DateField(
        _("en calentamiento desde"),
        null=True,
        blank=True,
        help_text=_(
            "Número nuevo: su máximo diario sube semana a semana desde este día "
            "(5, 10, 20 y luego el máximo). Vacío si el número ya tiene historial."
        ),
    )
    # The latest brakes ({"at", "reason", "source"}) and lifts (the same with "kind": "lift"
    # and "by", who lifted it), newest last: the risk signals and the audit of who lifted.
    brake_log = models.JSONField(_("frenos recientes"), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("número de WhatsApp")
        verbose_name_plural = _("números de WhatsApp")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get_default(cls) -> Sender:
        """The sender configured by the environment, created on first use."""
        sender, _created = cls.objects.get_or_create(
            name=DEFAULT_SENDER_NAME,
            defaults={"from_environment": True, "backend": env_backend()},
        )
        return sender

    @property
    def effective_backend(self) -> str:
        """The backend in use: the environment's for the default sender."""
        return env_backend() if self.from_environment else self.backend

    @property
    def backend_label(self) -> str:
        """The provider in use, in the shop's words (``get_backend_display`` of the backend in use)."""
        backend = self.effective_backend
        return str(Backend(backend).label) if backend in Backend.values else backend

    @property
    def tz(self) -> ZoneInfo:
        """The sender's time zone, which decides its days and windows."""
        return ZoneInfo(self.time_zone or settings.TIME_ZONE)

    @property
    def counter_scope(self) -> str:
        return f"sender:{self.pk}"

    def local_day(self, now: datetime) -> date:
        """The calendar day in the sender's time zone at ``now``."""
        return now.astimezone(self.tz).date()

    def cap_on(self, day: date) -> int:
        """How many messages this number may send on ``day`` across all its campaigns.

        The daily cap, lowered while the number warms up (goteo.warmup).
        """
        return warmup_cap(self.daily_cap, self.warmup_started_on, day, warmup_schedule())

    def warmup_stage(self, day: date) -> WarmupStage | None:
        """Where the number's warm-up stands on ``day``; None when it is not warming up."""
        return warmup_stage(self.warmup_started_on, day, self.daily_cap, warmup_schedule())

    def is_braked(self, now: datetime) -> bool:
        """True while an automatic brake keeps this number silent."""
        return self.paused_until is not None and self.paused_until > now

    def brake(self, reason: str, until: datetime, *, now: datetime | None = None, source: str = "") -> None:
        """Stop this number until ``until`` and pause its active campaigns with the reason.

        The brake is logged with ``source`` ("riesgo" for goteo's own risk signals).
        """
        entry = {"at": (now or timezone.now()).isoformat(), "reason": reason[:300], "source": source}
        previous = Sender.objects.filter(pk=self.pk).values_list("brake_log", flat=True).first()
        history = [*(previous or []), entry][-BRAKE_LOG_SIZE:]
        Sender.objects.filter(pk=self.pk).update(paused_until=until, pause_reason=reason, brake_log=history)
        self.paused_until, self.pause_reason, self.brake_log = until, reason, history
        for campaign in self.campaigns.filter(status=CampaignStatus.ACTIVE):
            campaign.pause(reason=reason)

    def lift_brake(self, by: str, *, now: datetime | None = None) -> bool:
        """Let this number send again now, recording who lifted its brake and when.

        False when it was not braked. The campaigns the brake paused stay paused until a
        person resumes them. A brake set meanwhile by someone else is left alone.
        """
        moment = now or timezone.now()
        row = (
            Sender.objects.filter(pk=self.pk).values_list("paused_until", "pause_reason", "brake_log").first()
        )
        if row is None or row[0] is None or row[0] <= moment:
            return False
        until, reason, previous = row
        entry = {
            "at": moment.isoformat(),
            "reason": reason[:300],
            "source": by[:100],
            "kind": LIFT,
            "by": by[:100],
        }
        history = [*(previous or []), entry][-BRAKE_LOG_SIZE:]
        lifted = Sender.objects.filter(pk=self.pk, paused_until=until).update(
            paused_until=None, pause_reason="", brake_log=history
        )
        if lifted:
            self.paused_until, self.pause_reason, self.brake_log = None, "", history
        return bool(lifted)

    def last_lift(self) -> datetime | None:
        """When a brake of this number was last lifted, from the brake log."""
        moments = []
        for entry in self.brake_log or []:
            if entry.get("kind") == LIFT:
                try:
                    moments.append(datetime.fromisoformat(str(entry.get("at"))))
                except ValueError:
                    continue
        return max(moments, default=None)


def env_backend() -> str:
    """WHATSAPP_BACKEND, the default sender's provider (``console`` when unset)."""
    return env_str("WHATSAPP_BACKEND", Backend.CONSOLE).lower()
