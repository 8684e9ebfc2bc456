"""Django app configuration for goteo."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoteoConfig(AppConfig):
    name = "goteo"
    verbose_name = _("Promociones por WhatsApp")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from goteo import checks  # noqa: F401  (registers the system checks)
        from goteo.contact_sync import connect

        connect()  # keeps contacts in step with the host project's model, when one is named
