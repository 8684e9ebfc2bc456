"""The campaign's form (the wizard's fields and checks) and the test message's."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goteo.media import HEAD_BYTES, check_media
from goteo.media_limits import MediaRejected
from goteo.models import Campaign, Promotion, Segment, Sender, Tag
from goteo.phones import InvalidPhone, normalize_phone
from goteo.schedule import parse_days
from goteo.templating import (
    TemplateError,
    canonical,
    parse_provider_template,
    provider_template_spec,
    validate_template,
)
from goteo.web.forms.inputs import DATE_FORMATS, DAY_CHOICES, TIME_FORMATS, date_input, time_input

# Django's ModelForm takes its model as a type parameter only for the type checker.
if TYPE_CHECKING:
    ModelForm = forms.ModelForm[Campaign]
else:
    ModelForm = forms.ModelForm

INITIAL_TEMPLATE = """🎄 ¡[Hola|Buen día|Qué tal] {nombre}!

👓 Tenemos una promoción especial para ti:

💰 {beneficio}
🎁 Código: {codigo}

📅 Válido hasta el {valido_hasta}

¡Visítanos y aprovecha esta oferta!"""


# A moment typed day first with a 24-hour clock, like the dates and times beside it.
MOMENT_FORMATS = ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]


def moment_input() -> forms.DateTimeInput:
    """A date and a time, in the number's local time."""
    attrs = {
        "placeholder": "dd/mm/aaaa HH:MM",
        "inputmode": "numeric",
        "autocomplete": "off",
        "class": "moment",
    }
    return forms.DateTimeInput(attrs=attrs, format="%d/%m/%Y %H:%M")


def in_zone(value: datetime | None, sender: Sender | None) -> datetime | None:
    """A moment typed in the form, read as the number's local time (not the server's)."""
    if value is None or sender is None:
        return value
    typed = timezone.localtime(value) if timezone.is_aware(value) else value
    return typed.replace(tzinfo=sender.tz)


def audience_choices() -> list[tuple[str, str]]:
    """All consenting contacts, one tag, or one saved segment."""
    choices = [("all", str(_("Todos los contactos que aceptan promociones")))]
    for name in Tag.objects.values_list("name", flat=True):
        choices.append((f"tag:{name}", str(_("Etiqueta: %(tag)s") % {"tag": name})))
    for name in Segment.objects.values_list("name", flat=True):
        choices.append((f"segment:{name}", str(_("Segmento: %(segment)s") % {"segment": name})))
    return choices


MEDIA_ACCEPT = "image/jpeg,image/png,application/pdf,video/mp4"


class CampaignForm(ModelForm):
    """A draft campaign: its promotion (chosen or new), template, audience and pacing."""

    media_file = forms.FileField(
        label=_("Imagen, PDF o video (opcional)"),
        required=False,
        help_text=_("Una foto JPEG o PNG, un PDF o un video MP4; el mensaje va como pie de la imagen."),
        widget=forms.FileInput(attrs={"accept": MEDIA_ACCEPT}),
    )

    promotion = forms.ModelChoiceField(
        queryset=Promotion.objects.all(),
        required=False,
        empty_label=_("— Crear una promoción nueva —"),
        label=_("Promoción"),
    )
    new_promotion_name = forms.CharField(label=_("Nombre de la promoción"), max_length=200, required=False)
    new_promotion_code = forms.CharField(label=_("Código"), max_length=64, required=False)
    new_promotion_benefit = forms.CharField(label=_("Beneficio"), max_length=300, required=False)
    new_promotion_valid_until = forms.DateField(
        label=_("Válida hasta"),
        required=False,
        widget=date_input(),
        input_formats=DATE_FORMATS,
        help_text=_("Día/mes/año, p. ej. 31/01/2026."),
    )
    update_promotion = forms.BooleanField(
        label=_("Actualizar la promoción existente en todas sus campañas"), required=False
    )
    audience = forms.ChoiceField(label=_("Audiencia"))
    send_days = forms.MultipleChoiceField(
        label=_("Días de envío"), choices=DAY_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    provider_template = forms.CharField(
        label=_("Plantilla aprobada del proveedor (Cloud API o Twilio)"),
        required=False,
        max_length=300,
        help_text=_(
            "Déjelo vacío si no sabe qué es. Solo hace falta cuando su WhatsApp es de Meta (Cloud API) "
            "o Twilio y ellos le aprobaron una plantilla: escriba su nombre, el idioma y qué dato va en "
            "cada espacio, separados por dos puntos. Por ejemplo, promo_monturas:es:nombre,codigo pone "
            "el nombre en {{1}} y el código en {{2}}."
        ),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "sender",
            "unique_codes",
            "template",
            "emojis",
            "audience",
            "daily_limit",
            "delay_seconds",
            "window_start",
            "window_end",
            "send_days",
            "skip_holidays",
            "opt_out_footer",
            "provider_template",
            "start_at",
            "end_at",
        ]
        widgets = {
            "start_at": moment_input(),
            "end_at": moment_input(),
            "template": forms.Textarea(attrs={"rows": 12}),
            "window_start": time_input(),
            "window_end": time_input(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An existing promotion named by its code, and the changes asked for it (see clean).
        self.existing_promotion: Promotion | None = None
        self.promotion_changes: list[str] = []
        self.promotion_note = ""
        sender_field = self.fields["sender"]
        assert isinstance(sender_field, forms.ModelChoiceField)
        sender_field.queryset = Sender.objects.filter(is_active=True)
        sender_field.empty_label = None
        audience_field = self.fields["audience"]
        assert isinstance(audience_field, forms.ChoiceField)
        audience_field.choices = audience_choices()
        self.fields["daily_limit"].widget.attrs["min"] = 1
        self.moment_fields()
        for name in ("window_start", "window_end"):
            time_field = self.fields[name]
            assert isinstance(time_field, forms.TimeField)
            time_field.input_formats = TIME_FORMATS
            time_field.help_text = _("24 horas, p. ej. 09:00 o 19:00.")
        if self.instance.pk:
            self.initial["promotion"] = self.instance.promotion_id
            self.initial["provider_template"] = provider_template_spec(self.instance.provider_template)
            self.initial["send_days"] = parse_days(self.instance.send_days)
        else:
            self.initial.setdefault("template", INITIAL_TEMPLATE)
            self.initial.setdefault("send_days", parse_days(Campaign._meta.get_field("send_days").default))

    def moment_fields(self) -> None:
        """The start and the end, when the form has them (an automation's has neither)."""
        helps = {
            "start_at": _("Opcional. Hora del número; hasta entonces no se envía nada."),
            "end_at": _("Opcional. Lo que quede pendiente después se omite."),
        }
        for name, help_text in helps.items():
            moment_field = self.fields.get(name)
            if moment_field is None:
                continue
            assert isinstance(moment_field, forms.DateTimeField)
            moment_field.input_formats = MOMENT_FORMATS
            moment_field.help_text = help_text

    def clean_template(self) -> str:
        template = self.cleaned_data["template"]
        try:
            validate_template(template)
        except TemplateError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return str(template)

    def clean_provider_template(self) -> dict[str, Any]:
        try:
            return parse_provider_template(self.cleaned_data["provider_template"])
        except TemplateError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_send_days(self) -> str:
        return ",".join(parse_days(",".join(self.cleaned_data["send_days"])))

    def clean_new_promotion_code(self) -> str:
        return str(self.cleaned_data["new_promotion_code"]).strip().upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        for name in ("start_at", "end_at"):
            data[name] = in_zone(data.get(name), data.get("sender"))
        if data.get("start_at") and data.get("end_at") and data["end_at"] <= data["start_at"]:
            self.add_error("end_at", _("El final debe ser posterior al comienzo."))
        self.check_media(data)
        self.check_unique_codes(data)
        if data.get("promotion"):
            return data
        code = data.get("new_promotion_code")
        existing = Promotion.objects.filter(code__iexact=code).first() if code else None
        if existing is not None:
            self.clean_existing_promotion(existing, data)
            return data
        for name in ("new_promotion_name", "new_promotion_code", "new_promotion_benefit"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("Obligatorio para crear la promoción."))
        if not data.get("new_promotion_valid_until") and "new_promotion_valid_until" not in self.errors:
            self.add_error("new_promotion_valid_until", _("Obligatorio para crear la promoción."))
        return data

    def check_media(self, data: dict[str, Any]) -> None:
        """The chosen file, against what the chosen number's provider accepts."""
        upload, sender = data.get("media_file"), data.get("sender")
        if not upload or sender is None:
            return
        head = upload.read(HEAD_BYTES)
        upload.seek(0)
        try:
            check_media(sender.effective_backend, upload.name, head, upload.size)
        except MediaRejected as exc:
            self.add_error("media_file", str(exc))

    def wanted_promotion(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data.get("new_promotion_name"),
            "benefit": data.get("new_promotion_benefit"),
            "valid_until": data.get("new_promotion_valid_until"),
        }

    def clean_existing_promotion(self, existing: Promotion, data: dict[str, Any]) -> None:
        """Reuse a promotion named by its code; changing it, for all its campaigns, takes the checkbox."""
        self.existing_promotion = existing
        self.promotion_changes = existing.differences(**self.wanted_promotion())
        if not self.promotion_changes:
            return
        campaigns = existing.campaigns_described()
        self.fields["update_promotion"].help_text = _("Cambia la promoción de: %(campanas)s.") % {
            "campanas": campaigns
        }
        if not data.get("update_promotion"):
            self.add_error(
                "new_promotion_code",
                _(
                    "La promoción %(code)s ya existe con otros datos (%(cambios)s) y la usan: "
                    "%(campanas)s. Marque «Actualizar la promoción existente» para cambiarla en "
                    "todas ellas, o use otro código."
                )
                % {
                    "code": existing.code,
                    "cambios": "; ".join(self.promotion_changes),
                    "campanas": campaigns,
                },
            )

    def check_unique_codes(self, data: dict[str, Any]) -> None:
        """A code per person is only worth it if the message shows it."""
        template, spec = data.get("template"), data.get("provider_template") or {}
        if not (data.get("unique_codes") and template):
            return
        params = spec.get("params") or [] if isinstance(spec, dict) else []
        if "codigo" not in {canonical(p) for p in [*validate_template(template), *params]}:
            self.add_error(
                "template",
                _("Con un código por persona, el mensaje debe mostrarlo: agregue {codigo} a la plantilla."),
            )

    def promotion_values(self) -> tuple[str, str, date | None]:
        """(code, benefit, valid until) of the chosen or new promotion, for previews."""
        data = getattr(self, "cleaned_data", {})
        chosen = data.get("promotion")
        if chosen:
            return chosen.code, chosen.benefit, chosen.valid_until
        named = self.existing_promotion  # named by its code: shown with the changes typed in
        if named:
            return (
                named.code,
                data.get("new_promotion_benefit") or named.benefit,
                data.get("new_promotion_valid_until") or named.valid_until,
            )
        return (
            data.get("new_promotion_code") or str(_("CÓDIGO")),
            data.get("new_promotion_benefit") or str(_("(beneficio)")),
            data.get("new_promotion_valid_until"),
        )

    def save(self, commit: bool = True, now: datetime | None = None, actor: str = "") -> Campaign:
        campaign = super().save(commit=False)
        promotion = self.cleaned_data.get("promotion") or self.existing_promotion
        if promotion is not None and promotion == self.existing_promotion and self.promotion_changes:
            restored = promotion.revise(now or timezone.now(), actor or "panel", **self.wanted_promotion())
            self.promotion_note = _("Promoción %(code)s actualizada (%(cambios)s).") % {
                "code": promotion.code,
                "cambios": "; ".join(self.promotion_changes),
            }
            if restored:
                self.promotion_note += " " + _(
                    "%(n)s mensajes omitidos por vencimiento vuelven a estar pendientes."
                ) % {"n": restored}
        if promotion is None:
            promotion = Promotion.objects.create(
                name=self.cleaned_data["new_promotion_name"],
                code=self.cleaned_data["new_promotion_code"],
                benefit=self.cleaned_data["new_promotion_benefit"],
                valid_until=self.cleaned_data["new_promotion_valid_until"],
            )
        campaign.promotion = promotion
        if commit:
            campaign.save()
        return campaign


class TestMessageForm(forms.Form):
    """A test message to one number, sent now by the campaign's sender."""

    phone = forms.CharField(label=_("Número de WhatsApp"), max_length=32)
    text = forms.CharField(label=_("Texto"), widget=forms.Textarea(attrs={"rows": 10}))

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from exc
