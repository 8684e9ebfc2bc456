from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "tests.hostapp"
    label = "patients"
    default_auto_field = "django.db.models.BigAutoField"
