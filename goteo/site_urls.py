"""URLs of the bundled site: the admin and goteo's own pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("goteo.urls")),
]
