"""Inputs every dashboard form shares: day-first dates, a 24-hour clock, the days of the week."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

DAY_CHOICES = [
    ("mon", _("Lunes")),
    ("tue", _("Martes")),
    ("wed", _("Miércoles")),
    ("thu", _("Jueves")),
    ("fri", _("Viernes")),
    ("sat", _("Sábado")),
    ("sun", _("Domingo")),
]

# Day first and a 24-hour clock, as in Colombia, whatever the phone's settings: the browsers'
# own date and time pickers follow the phone's locale (a.m./p.m., month first).
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
TIME_FORMATS = ["%H:%M"]


def date_input() -> forms.DateInput:
    """A date typed day first (dd/mm/aaaa), with the phone's number pad."""
    attrs = {"placeholder": "dd/mm/aaaa", "inputmode": "numeric", "autocomplete": "off", "class": "date"}
    return forms.DateInput(attrs=attrs, format="%d/%m/%Y")


def time_input() -> forms.TimeInput:
    """A time on a 24-hour clock (HH:MM), with the phone's number pad."""
    attrs = {"placeholder": "HH:MM", "inputmode": "numeric", "autocomplete": "off", "class": "time"}
    return forms.TimeInput(attrs=attrs, format="%H:%M")
