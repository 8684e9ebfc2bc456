"""Webhook URLs, under ``/webhooks/``: the addresses to register with each provider."""

from django.urls import path

from goteo.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("cloud/", views.cloud, name="cloud"),
    path("twilio/status/<uuid:message_id>/", views.twilio_status, name="twilio_status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("evolution/<str:secret>/", views.evolution, name="evolution"),
    path("evolution/<str:secret>/<str:event>/", views.evolution, name="evolution_event"),
    path("waha/", views.waha, name="waha"),
]
