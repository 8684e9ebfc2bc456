"""The contacts import's form, and the form for a contact's dates and own data (attributes)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from goteo.models import Contact
from goteo.web.forms.inputs import DATE_FORMATS, date_input

MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE = 64, 200


class ImportForm(forms.Form):
    """A CSV of contacts: name, phone, consent and optionally tags, dates and other columns."""

    file = forms.FileField(label=_("Archivo CSV"))


class ContactDatesForm(forms.ModelForm):  # type: ignore[type-arg]
    """The two dates reminders count from; neither can be after today."""

    birth_date = forms.DateField(
        label=_("Fecha de nacimiento"), required=False, input_formats=DATE_FORMATS, widget=date_input()
    )
    last_visit = forms.DateField(
        label=_("Última visita"), required=False, input_formats=DATE_FORMATS, widget=date_input()
    )

    class Meta:
        model = Contact
        fields = ["birth_date", "last_visit"]

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def not_after_today(self, name: str) -> date | None:
        value: date | None = self.cleaned_data.get(name)
        if value is not None and value > self.today:
            raise forms.ValidationError(_("La fecha no puede ser posterior a hoy."))
        return value

    def clean_birth_date(self) -> date | None:
        return self.not_after_today("birth_date")

    def clean_last_visit(self) -> date | None:
        return self.not_after_today("last_visit")


class AttributeForm(forms.Form):
    """One row of the shop's own data about the person: a name and its value."""

    name = forms.CharField(label=_("Dato"), max_length=MAX_ATTRIBUTE_NAME, required=False)
    value = forms.CharField(label=_("Valor"), max_length=MAX_ATTRIBUTE_VALUE, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("value", "").strip() and not cleaned.get("name", "").strip():
            self.add_error("name", _("Escriba el nombre del dato, por ejemplo «producto»."))
        return cleaned


class BaseAttributeFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The rows together: a name only once; a row marked «Quitar» or left empty is dropped."""

    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            name = form.cleaned_data.get("name", "").strip()
            if not name:
                continue
            if name.casefold() in seen:
                form.add_error("name", _("Este dato ya está en otra fila."))
                raise forms.ValidationError(_("Hay un dato repetido: %(name)s.") % {"name": name})
            seen.add(name.casefold())

    def attributes(self) -> dict[str, str]:
        """The rows kept, as the contact's attributes."""
        kept: dict[str, str] = {}
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            name = form.cleaned_data.get("name", "").strip()
            value = form.cleaned_data.get("value", "").strip()
            if name and value:
                kept[name] = value
        return kept


AttributeFormSet = cast(
    type[BaseAttributeFormSet],
    forms.formset_factory(
        AttributeForm, formset=BaseAttributeFormSet, extra=1, can_delete=True, max_num=50, validate_max=True
    ),
)
