"""goteo's URLs, for the bundled site or a host project's ``include("goteo.urls")``."""

from django.urls import include, path
from django.views.generic import RedirectView

app_name = "goteo"

urlpatterns: list = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="home"),
    path("webhooks/", include("goteo.webhooks.urls")),
]
