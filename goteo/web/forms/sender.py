"""A WhatsApp number's form: its provider, settings and credentials, its time zone."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from goteo.models import Sender
from goteo.models.senders import Backend
from goteo.transports.config import SETTINGS
from goteo.web.forms.inputs import DATE_FORMATS, date_input

# Django's ModelForm takes its model as a type parameter only for the type checker.
if TYPE_CHECKING:
    ModelForm = forms.ModelForm[Sender]
else:
    ModelForm = forms.ModelForm

FIRST_ZONES = ["America/Bogota"]
NEAR_PREFIXES = ("America/", "Europe/Madrid", "Atlantic/Canary", "Africa/Ceuta")


def zone_label(zone: str) -> str:
    return zone.replace("_", " ")


@cache
def time_zone_choices() -> list[tuple[str, Any]]:
    """America/Bogota first, then the Americas and Spain, then every other zone, sorted."""
    zones = sorted(available_timezones())
    near = [z for z in zones if z.startswith(NEAR_PREFIXES) and z not in FIRST_ZONES]
    rest = [z for z in zones if z not in near and z not in FIRST_ZONES]
    return [
        ("", str(_("La de la instalación"))),
        *[(z, zone_label(z)) for z in FIRST_ZONES],
        (str(_("América y España")), [(z, zone_label(z)) for z in near]),
        (str(_("Otras")), [(z, zone_label(z)) for z in rest]),
    ]


class SenderForm(ModelForm):
    """A WhatsApp number with its provider settings. Credentials are write-only.

    Each provider's settings get one field named ``<backend>__<key>``; a credential field
    is never filled in when shown, and left blank it keeps the stored value.
    """

    class Meta:
        model = Sender
        fields = ["name", "backend", "daily_cap", "warmup_started_on", "time_zone", "is_active"]
        widgets = {"warmup_started_on": date_input(), "time_zone": forms.Select()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["daily_cap"].widget.attrs["min"] = 1
        warmup_field = self.fields["warmup_started_on"]
        assert isinstance(warmup_field, forms.DateField)
        warmup_field.input_formats = DATE_FORMATS
        zone_widget = self.fields["time_zone"].widget
        assert isinstance(zone_widget, forms.Select)
        zone_widget.choices = time_zone_choices()
        self.fields["time_zone"].help_text = _("Las horas de envío y los días se cuentan en esta zona.")
        self.provider_fields: dict[str, list[str]] = {}
        stored_config = self.instance.config or {}
        stored_secrets = self.instance.secrets or {}
        for backend, settings in SETTINGS.items():
            names = []
            for setting in settings:
                name = f"{backend}__{setting.key}"
                same_backend = self.instance.backend == backend
                if setting.secret:
                    kept = same_backend and bool(stored_secrets.get(setting.key))
                    field: forms.Field = forms.CharField(
                        label=setting.label,
                        required=False,
                        widget=forms.PasswordInput(
                            render_value=False,
                            attrs={
                                "autocomplete": "new-password",
                                "placeholder": str(_("guardado; en blanco lo conserva")) if kept else "",
                            },
                        ),
                    )
                else:
                    field = forms.CharField(label=setting.label, required=False, max_length=500)
                    if same_backend and stored_config.get(setting.key):
                        field.initial = stored_config[setting.key]
                    elif setting.default:
                        field.widget.attrs["placeholder"] = setting.default
                self.fields[name] = field
                names.append(name)
            self.provider_fields[backend] = names
        if self.instance.from_environment:
            self.fields["backend"].disabled = True
            for names in self.provider_fields.values():
                for name in names:
                    self.fields[name].disabled = True

    def provider_groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(backend, its name, bound fields) for the template, one fieldset per provider."""
        labels = dict(Backend.choices)
        return [
            (backend, str(labels.get(backend, backend)), [self[name] for name in names])
            for backend, names in self.provider_fields.items()
        ]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise forms.ValidationError(
                    _("Zona horaria desconocida; use p. ej. America/Bogota.")
                ) from exc
        return str(value)

    def save(self, commit: bool = True) -> Sender:
        sender = super().save(commit=False)
        if not sender.from_environment:
            config: dict[str, Any] = {}
            secrets: dict[str, Any] = (
                dict(sender.secrets or {}) if self.initial.get("backend") == sender.backend else {}
            )
            for setting in SETTINGS.get(sender.backend, ()):
                value = (self.cleaned_data.get(f"{sender.backend}__{setting.key}") or "").strip()
                if setting.secret:
                    if value:
                        secrets[setting.key] = value
                elif value:
                    config[setting.key] = value
            sender.config = config
            sender.secrets = secrets
        if commit:
            sender.save()
        return sender
