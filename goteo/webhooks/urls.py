"""Webhook URLs, under ``/webhooks/``: the addresses to register with each provider.

Every route answers with or without a trailing slash: Django's APPEND_SLASH would answer
a provider's POST with a redirect, which HTTP clients follow as a GET, and the event
would be lost. Evolution's "webhook by events" appends ``/<event>`` to the configured
URL, so ``…/SECRETO/messages-upsert`` and ``…/SECRETO//messages-upsert`` both arrive.
"""

from django.urls import path, re_path

from goteo.webhooks import views

app_name = "webhooks"

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

urlpatterns = [
    # The addresses as documented (and as goteo gives them to Twilio)...
    path("cloud/", views.cloud, name="cloud"),
    path("twilio/status/<uuid:message_id>/", views.twilio_status, name="twilio_status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("evolution/<str:secret>/", views.evolution, name="evolution"),
    path("waha/", views.waha, name="waha"),
    # ...and as providers may call them: no trailing slash, or Evolution's event appended.
    re_path(r"^cloud$", views.cloud),
    re_path(rf"^twilio/status/(?P<message_id>{UUID})$", views.twilio_status),
    re_path(r"^twilio/inbound$", views.twilio_inbound),
    re_path(r"^evolution/(?P<secret>[^/]+)/*$", views.evolution),
    re_path(
        r"^evolution/(?P<secret>[^/]+)/+(?P<event>[A-Za-z0-9_.-]+)/*$",
        views.evolution,
        name="evolution_event",
    ),
    re_path(r"^waha$", views.waha),
]
