"""goteo's URLs, for the bundled site or a host project's ``include("goteo.urls")``."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "goteo"

urlpatterns: list = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="home"),
]
