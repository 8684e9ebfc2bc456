"""The host's own model, as an optical shop's system keeps it."""

from __future__ import annotations

from django.db import models


class Patient(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    phone_number = models.CharField(max_length=40, blank=True)
    accepts_marketing = models.BooleanField(default=False)
    birth_date = models.DateField(null=True, blank=True)
    last_exam_date = models.DateTimeField(null=True, blank=True)
    product = models.CharField(max_length=100, blank=True)

    class Meta:
        app_label = "patients"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
