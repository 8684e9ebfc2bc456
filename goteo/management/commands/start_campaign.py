"""``goteo start_campaign ID``: show who receives what and when, then start sending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo import health
from goteo.audience import AudienceError, audience, preview_recipients
from goteo.automations import plan
from goteo.draft import draft_outlook, first_day
from goteo.launch import LaunchError
from goteo.management.base import GoteoCommand
from goteo.management.output import get_campaign, mark_and_detail, skip_label
from goteo.models import Campaign, CampaignStatus
from goteo.phones import mask_phone
from goteo.schedule import describe_day, describe_moment
from goteo.scheduling import campaign_schedule, start_text
from goteo.simulation import SIMULATE_HINT, connection_mark, launch_refusal
from goteo.status import campaign_summary
from goteo.triggers import TriggerError, parse_trigger

PREVIEW = 10  # people an automation's preview names


class Command(GoteoCommand):
    help = "Inicia una campaña: muestra destinatarios, quiénes reciben hoy y el estado de WhatsApp."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int, metavar="CAMPAÑA")
        parser.add_argument("--yes", action="store_true", help="no pedir confirmación")
        parser.add_argument(
            "--simulate",
            action="store_true",
            help="iniciarla como simulación en un número en modo de prueba (nada sale por WhatsApp)",
        )

    def handle(self, *args: Any, campaign_id: int, yes: bool, simulate: bool = False, **options: Any) -> None:
        now = timezone.now()
        campaign = get_campaign(campaign_id)
        if campaign.status != CampaignStatus.DRAFT:
            raise CommandError(
                f"La campaña {campaign_id} ya fue iniciada ({campaign.get_status_display()}); "
                "use resume_campaign si está pausada."
            )
        if campaign.is_expired(now):
            raise CommandError(
                f"La promoción {campaign.promotion.code} venció el "
                f"{campaign.promotion.valid_until:%d/%m/%Y}; no se puede iniciar la campaña. "
                "Para ampliar su vigencia, en el panel abra «Editar» en esta campaña, elija "
                f"«— Crear una promoción nueva —», escriba el código {campaign.promotion.code} con la "
                "nueva fecha en «Válida hasta» y marque «Actualizar la promoción existente en todas "
                "sus campañas»."
            )
        self.stdout.write(f"{'Automatización' if campaign.is_automation else 'Campaña'}: {campaign.name}")
        self.stdout.write(f"Promoción: {campaign.promotion}")
        if campaign.is_automation:
            self.preview_automation(campaign, now)
        else:
            self.preview_campaign(campaign, now)
        connected, detail = self.whatsapp(campaign)
        mark = connection_mark(campaign.sender, connected)
        self.stdout.write(f"WhatsApp ({campaign.sender.name}): {mark_and_detail(mark, detail)}")
        refusal = launch_refusal(campaign, simulate)
        if refusal:
            hint = "" if simulate else f" {SIMULATE_HINT}"
            raise CommandError(f"{refusal}{hint} La campaña sigue en borrador.")
        if simulate:
            self.stdout.write(
                "🧪 Simulación: los mensajes se imprimen y quedan como simulados; nadie los recibe."
            )
        if not yes:
            answer = input("¿Iniciar la campaña? [s/N] ")
            if answer.strip().lower() not in ("s", "si", "sí", "y", "yes"):
                self.stdout.write("No se inició; la campaña sigue en borrador.")
                return
        try:
            result = campaign_schedule(campaign, now, simulate=simulate)
        except LaunchError as exc:
            raise CommandError(str(exc)) from None
        if result is None:
            self.stdout.write(
                f"Programada: {start_text(campaign, now)}; hasta entonces no se envía nada y puede "
                "cambiarla o cancelarla."
            )
            return
        self.stdout.write(f"Mensajes creados: {result.total} ({result.pending} por enviar)")
        for reason, n in sorted(result.skipped.items()):
            self.stdout.write(f"  omitidos, {skip_label(reason)}: {n}")
        for warning in result.warnings:
            self.stderr.write(f"Aviso: {warning}")
        summary = campaign_summary(campaign, now)
        self.stdout.write(f"Próximo envío: {summary['next_send_text']}")
        if not campaign.is_automation:
            self.stdout.write(f"Terminará: {describe_day(result.forecast)}")
        if not connected:
            self.stderr.write("Aviso: WhatsApp no está conectado; no se enviará nada hasta que lo esté.")

    def preview_campaign(self, campaign: Campaign, now: datetime) -> None:
        """Who the audience is, who receives on the first day, and when it would finish."""
        try:
            in_audience = audience(campaign, now=campaign.starts_from(now)).count()
            self.stdout.write(f"Contactos en la audiencia: {in_audience}")
            day = first_day(campaign, campaign.starts_from(now))
            sendable, first = preview_recipients(campaign, day.count)
            day = day.capped(sendable)
        except AudienceError as exc:
            raise CommandError(str(exc)) from None
        rest = " (el resto se omite con su motivo)" if in_audience > sendable else ""
        self.stdout.write(f"Pueden recibirla: {sendable}{rest}")
        self.stdout.write(
            f"Primer envío: {describe_moment(day.when, now, campaign.sender.tz)}; ese día recibirían "
            f"{day.count} (limita: {day.limited_by}):"
        )
        for name, phone in first:
            self.stdout.write(f"  · {name} ({mask_phone(phone)})")
        _count, finish, warning = draft_outlook(
            campaign, audience(campaign, now=campaign.starts_from(now)), campaign.starts_from(now)
        )
        self.stdout.write(f"Terminaría: {describe_day(finish) if finish else 'nunca con estas reglas'}")
        if warning:
            self.stdout.write(f"⚠ {warning}")

    def preview_automation(self, campaign: Campaign, now: datetime) -> None:
        """What it waits for, and who it would enroll today."""
        try:
            trigger = parse_trigger(campaign.trigger)
            due = [person for person, _reason in plan(campaign, trigger, campaign.local_today(now))]
        except (TriggerError, AudienceError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Envía {trigger.describe()}; si no se puede en {campaign.grace_days} días, se omite."
        )
        self.stdout.write(f"Hoy se sumarían: {len(due)}")
        for person in due[:PREVIEW]:
            self.stdout.write(f"  · {person.name} ({mask_phone(person.phone)})")

    def whatsapp(self, campaign: Campaign) -> tuple[bool, str]:
        status = health.sender_status(campaign.sender, timezone.now())
        return status.connected, status.detail
