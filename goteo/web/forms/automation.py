"""The automation's form: the campaign's wizard, with when it sends instead of a start date.

The owner picks «el día de su cumpleaños» or «cuando pasen N días desde su última visita»;
the form stores it as the campaign's trigger (goteo.triggers), which the owner never sees.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from goteo.models.campaigns import MAX_GRACE_DAYS
from goteo.triggers import BIRTHDAY, DAYS_SINCE, MAX_DAYS, TriggerError, parse_trigger
from goteo.web.forms.campaign import CampaignForm

ON_BIRTHDAY = "cumpleanos"
AFTER_VISIT = "ultima_visita"
WHEN_CHOICES = [
    (ON_BIRTHDAY, _("El día de su cumpleaños")),
    (AFTER_VISIT, _("Cuando pasen N días desde su última visita")),
]
# A campaign's fields but its dates: an automation starts when it is started and never ends alone.
FIELDS = [name for name in CampaignForm.Meta.fields if name not in ("start_at", "end_at")]


class AutomationForm(CampaignForm):
    """A standing campaign: the campaign's fields, when each person gets it, and the grace days."""

    when = forms.ChoiceField(
        label=_("¿Cuándo se envía?"),
        choices=WHEN_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Elija cuándo se envía.")},
    )
    days = forms.IntegerField(
        label=_("Días desde su última visita"),
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text=_("Solo si eligió la última visita. Por ejemplo 365: un año después."),
        error_messages={
            "invalid": _("Escriba un número entero de días, por ejemplo 365."),
            "min_value": _("Escriba al menos 1 día."),
            "max_value": _("Escriba como máximo %(limit_value)s días (diez años)."),
        },
    )

    class Meta(CampaignForm.Meta):
        fields = [*FIELDS, "grace_days"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grace = self.fields["grace_days"]
        grace.label = _("Días de gracia")
        grace.help_text = _(
            "Si no se puede enviar en estos días, se omite para que no llegue tarde (de 0 a %(n)s)."
        ) % {"n": MAX_GRACE_DAYS}
        grace.widget.attrs.update({"min": 0, "max": MAX_GRACE_DAYS, "inputmode": "numeric"})
        self.fields["days"].widget.attrs.update({"inputmode": "numeric", "placeholder": "365"})
        self.fields["days"].widget.attrs.pop("max", None)
        if self.instance.pk and self.instance.trigger:
            try:
                trigger = parse_trigger(self.instance.trigger)
            except TriggerError:
                return
            self.initial["when"] = ON_BIRTHDAY if trigger.kind == BIRTHDAY else AFTER_VISIT
            if trigger.kind == DAYS_SINCE:
                self.initial["days"] = trigger.days

    def clean_grace_days(self) -> int:
        value = self.cleaned_data["grace_days"]
        if value is not None and value > MAX_GRACE_DAYS:
            raise forms.ValidationError(
                _("Los días de gracia no pueden pasar de %(n)s.") % {"n": MAX_GRACE_DAYS}
            )
        return int(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        when, days = data.get("when"), data.get("days")
        if when == ON_BIRTHDAY:
            self.instance.trigger = BIRTHDAY
        elif when == AFTER_VISIT and "days" not in self.errors:
            if days is None:
                self.add_error("days", _("Escriba cuántos días deben pasar desde su última visita."))
            else:
                self.instance.trigger = parse_trigger(f"{DAYS_SINCE}:last_visit:{days}").spec
        return data
