"""The contacts import's form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ImportForm(forms.Form):
    """A CSV of contacts: name, phone, consent and optionally tags."""

    file = forms.FileField(label=_("Archivo CSV"))
