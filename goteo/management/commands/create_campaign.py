"""``goteo create_campaign``: a new campaign (draft, or started with --start)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from goteo.audience import AudienceError, audience
from goteo.draft import draft_outlook
from goteo.launch import LaunchError, LaunchResult, shows_code
from goteo.management.base import GoteoCommand, parse_day
from goteo.management.output import counted, field_errors
from goteo.media import attach_media
from goteo.media_limits import MediaRejected
from goteo.models import Campaign, Promotion, Sender, Tag
from goteo.schedule import describe_day, parse_days
from goteo.scheduling import campaign_schedule, parse_moment, start_text
from goteo.simulation import SIMULATE_HINT, sender_simulates
from goteo.templating import TemplateError, parse_provider_template


def parse_window(text: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise CommandError(f"--window {text!r}: use HH:MM-HH:MM, por ejemplo 09:00-19:00.") from None
    return start, end


class Command(GoteoCommand):
    help = "Crea una campaña en borrador (o la inicia con --start) e imprime su id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        text = parser.add_mutually_exclusive_group(required=True)
        text.add_argument(
            "--template", help="texto con {nombre}, {nombre_completo}, {codigo}, {beneficio}, {valido_hasta}"
        )
        text.add_argument("--template-file", type=Path)
        parser.add_argument("--promotion-code", required=True, help="p. ej. NAVIDAD2026")
        parser.add_argument("--benefit", help="p. ej. '30%% de descuento en Monturas'")
        parser.add_argument("--valid-until", type=parse_day, help="DD/MM/AAAA")
        parser.add_argument("--promotion-name")
        parser.add_argument(
            "--update-promotion",
            action="store_true",
            help="cambiar una promoción que ya existe (nombre, beneficio o vigencia) en todas sus campañas",
        )
        parser.add_argument(
            "--unique-codes",
            action="store_true",
            help="cada persona recibe su propio código en {codigo} (p. ej. NAVIDAD2026-7K3F9QX2), canjeable una vez",
        )
        parser.add_argument("--daily-limit", type=int, default=20)
        parser.add_argument("--delay", type=int, default=10, help="segundos entre mensajes")
        parser.add_argument("--window", default="09:00-19:00")
        parser.add_argument("--days", default="mon,tue,wed,thu,fri")
        parser.add_argument("--no-holidays", action="store_true", help="enviar también en festivos")
        parser.add_argument(
            "--no-opt-out-footer", action="store_true", help='sin el texto "Responde BAJA..." al final'
        )
        parser.add_argument("--max-attempts", type=int, default=3)
        parser.add_argument("--emojis", help="emojis de cierre separados por espacios ('' para ninguno)")
        parser.add_argument("--audience", default="all", help="all | tag:NOMBRE")
        parser.add_argument(
            "--provider-template",
            default="",
            help="plantilla aprobada (Cloud API o Twilio): NOMBRE[:IDIOMA[:name,code,...]], p. ej. "
            "promo_monturas:es:name,code; los marcadores llenan {{1}}, {{2}}... en orden",
        )
        parser.add_argument(
            "--media",
            type=Path,
            metavar="ARCHIVO",
            help="una imagen (JPEG o PNG), un PDF o un video MP4 que acompaña el mensaje; el texto va como pie",
        )
        parser.add_argument("--sender", help="nombre del número (por defecto, el del entorno)")
        parser.add_argument(
            "--start", action="store_true", help="iniciarla de inmediato (o programarla, con --start-at)"
        )
        parser.add_argument(
            "--start-at",
            metavar="FECHA_HORA",
            help="no enviar antes de este momento, p. ej. '15/12/2026 09:00' o '2026-12-15 09:00' (hora del número)",
        )
        parser.add_argument(
            "--end-at",
            metavar="FECHA_HORA",
            help="lo que quede pendiente después de este momento se omite («la campaña terminó»)",
        )
        parser.add_argument(
            "--simulate",
            action="store_true",
            help="con --start: iniciarla como simulación en un número en modo de prueba (nada sale por WhatsApp)",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        now = timezone.now()
        if o["simulate"] and not o["start"]:
            raise CommandError("--simulate va junto con --start: se simula al iniciar la campaña.")
        template = o["template"] if o["template"] is not None else self.read(o["template_file"])
        window_start, window_end = parse_window(o["window"])
        try:
            days = ",".join(parse_days(o["days"]))
        except ValueError as exc:
            raise CommandError(f"--days: {exc}") from None
        sender = self.sender(o["sender"])
        start_at, end_at = (self.moment(o, name, sender) for name in ("start_at", "end_at"))
        if start_at is not None and start_at <= now and not o["start"]:
            raise CommandError(
                f"--start-at: {o['start_at']} ya pasó; indique un momento futuro, o use --start para "
                "iniciarla ahora. No se creó la campaña."
            )
        try:
            provider_template = parse_provider_template(o["provider_template"])
        except TemplateError as exc:
            raise CommandError(f"--provider-template: {exc}") from None
        # Everything is checked inside one transaction: a refused command leaves no campaign and
        # no new or changed promotion behind, so a retry does not pile up drafts.
        warning = ""
        with transaction.atomic():
            promotion, revised = self.promotion(o, now, sender)
            campaign = Campaign(
                name=o["name"],
                promotion=promotion,
                sender=sender,
                template=template,
                audience=o["audience"],
                daily_limit=o["daily_limit"],
                delay_seconds=o["delay"],
                window_start=window_start,
                window_end=window_end,
                send_days=days,
                skip_holidays=not o["no_holidays"],
                max_attempts=o["max_attempts"],
                opt_out_footer=not o["no_opt_out_footer"],
                unique_codes=o["unique_codes"],
                provider_template=provider_template,
                start_at=start_at,
                end_at=end_at,
                **self.campaign_fields(o),
            )
            if o["emojis"] is not None:
                campaign.emojis = o["emojis"]
            try:
                campaign.full_clean()
            except ValidationError as exc:
                raise CommandError(self.explain(exc)) from None
            self.check_audience(campaign)
            if campaign.unique_codes and not shows_code(campaign):
                raise CommandError(
                    "--unique-codes: el mensaje debe mostrar el código de cada persona; agregue "
                    "{codigo} a la plantilla. No se creó la campaña."
                )
            campaign.save()
            if o["media"] is not None:
                self.attach(campaign, o["media"])
            if o["start"]:
                try:
                    result = campaign_schedule(campaign, now, simulate=o["simulate"])
                except LaunchError as exc:
                    hint = "" if o["simulate"] or not sender_simulates(sender) else f" {SIMULATE_HINT}"
                    raise CommandError(f"{exc}{hint} No se creó la campaña.") from None
            else:
                warning = self.draft_warning(campaign, now)
        if revised:
            self.stderr.write(revised)
        if campaign.daily_limit_warning:
            self.stderr.write(f"Aviso: {campaign.daily_limit_warning}")
        for notice in campaign.legal_notices():
            self.stderr.write(f"Aviso: {notice}")
        if o["start"] and result is None:
            self.stderr.write(f"Programada: {start_text(campaign, now)}; hasta entonces no se envía nada.")
        elif o["start"] and result is not None:
            for launch_warning in result.warnings:
                if launch_warning != campaign.daily_limit_warning:
                    self.stderr.write(f"Aviso: {launch_warning}")
            self.stderr.write(self.started_text(campaign, result))
        elif warning:
            self.stderr.write(f"Aviso: {warning}")
        self.stdout.write(str(campaign.pk))

    def campaign_fields(self, o: dict[str, Any]) -> dict[str, Any]:
        """Fields a command built on this one sets besides these options (create_automation)."""
        return {}

    def draft_warning(self, campaign: Campaign, now: datetime) -> str:
        """What to warn about a draft: here, when its audience would take too long."""
        _count, _finish, warning = draft_outlook(
            campaign, audience(campaign, now=campaign.starts_from(now)), campaign.starts_from(now)
        )
        return warning

    def started_text(self, campaign: Campaign, result: LaunchResult) -> str:
        return (
            f"Iniciada: {result.pending} por enviar, {counted(sum(result.skipped.values()), 'omitido')}; "
            f"terminará el {describe_day(result.forecast)}."
        )

    def moment(self, o: dict[str, Any], name: str, sender: Sender) -> datetime | None:
        """--start-at or --end-at, in the number's time zone (None when not given)."""
        if not o[name]:
            return None
        try:
            return parse_moment(o[name], sender.tz)
        except ValueError as exc:
            raise CommandError(f"--{name.replace('_', '-')}: {exc}. No se creó la campaña.") from None

    def attach(self, campaign: Campaign, path: Path) -> None:
        """The campaign's file, checked against its number's provider (refused: nothing is created)."""
        try:
            with path.open("rb") as stream:
                attach_media(campaign, stream, path.name)
        except OSError as exc:
            raise CommandError(f"--media: no se pudo leer {path}: {exc}. No se creó la campaña.") from None
        except MediaRejected as exc:
            raise CommandError(f"--media: {exc} No se creó la campaña.") from None

    def check_audience(self, campaign: Campaign) -> None:
        """Refuse an audience goteo cannot read, a tag no contact has ever had or a segment
        not saved (audience names the segments that exist)."""
        try:
            audience(campaign)
        except AudienceError as exc:
            raise CommandError(f"--audience: {exc} No se creó la campaña.") from None
        spec = campaign.audience.strip()
        if spec.startswith("tag:") and not Tag.objects.filter(name=spec[4:].strip()).exists():
            known = ", ".join(Tag.objects.values_list("name", flat=True)[:20]) or "ninguna todavía"
            raise CommandError(
                f"--audience: no existe la etiqueta {spec[4:].strip()!r} (etiquetas: {known}). "
                "No se creó la campaña."
            )

    def read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"No se pudo leer {path}: {exc}") from None

    def sender(self, name: str | None) -> Sender:
        if not name:
            return Sender.get_default()
        try:
            return Sender.objects.get(name=name)
        except Sender.DoesNotExist:
            raise CommandError(f"No existe el número {name!r}.") from None

    def promotion(self, o: dict[str, Any], now: datetime, sender: Sender) -> tuple[Promotion, str]:
        """The promotion named by --promotion-code, and what changed in it ("" if nothing).

        An existing promotion is reused as it is; changing it (and so every campaign that uses
        it) takes --update-promotion.
        """
        code = o["promotion_code"].strip()
        wanted = {"name": o["promotion_name"], "benefit": o["benefit"], "valid_until": o["valid_until"]}
        promotion = Promotion.objects.filter(code=code).first()
        if promotion is None:
            if not o["benefit"] or not o["valid_until"]:
                raise CommandError(
                    f"La promoción {code} no existe: indique --benefit y --valid-until para crearla."
                )
            today = sender.local_day(now)
            if o["valid_until"] < today:
                raise CommandError(
                    f"La promoción {code} ya venció el {o['valid_until']:%d/%m/%Y} (hoy es {today:%d/%m/%Y}): "
                    "indique en --valid-until una fecha de hoy en adelante. No se creó nada."
                )
            promotion = Promotion.objects.create(
                code=code,
                name=o["promotion_name"] or code,
                benefit=o["benefit"],
                valid_until=o["valid_until"],
            )
            return promotion, ""
        changes = promotion.differences(**wanted)
        if not changes:
            return promotion, ""
        campaigns = promotion.campaigns_described()
        if not o["update_promotion"]:
            raise CommandError(
                f"La promoción {code} ya existe con otros datos ({'; '.join(changes)}) y la usan: "
                f"{campaigns}. No se cambió nada. Para cambiarla en todas esas campañas, repita con "
                "--update-promotion; para una promoción distinta, use otro código."
            )
        restored = promotion.revise(now, "create_campaign", **wanted)
        note = f"Promoción {code} actualizada ({'; '.join(changes)}); afecta a: {campaigns}."
        if promotion.valid_until < sender.local_day(now):
            note += (
                f" Ojo: la promoción ya venció el {promotion.valid_until:%d/%m/%Y}; "
                "sus campañas no enviarán más mensajes."
            )
        if restored:
            note += f" {restored} mensajes omitidos por vencimiento vuelven a estar pendientes."
        return promotion, note

    def explain(self, exc: ValidationError) -> str:
        return field_errors(Campaign, exc)
