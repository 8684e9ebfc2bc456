"""goteo's URLs, for the bundled site or a host project's ``include("goteo.urls")``."""

from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from goteo.api import api
from goteo.web import (
    auth,
    campaign_actions,
    campaign_form,
    campaigns,
    contact_import,
    contacts,
    inbound,
    pairing,
    public_media,
    recipients,
    redeem,
    replies,
    results,
    segments,
    senders,
    team,
)

app_name = "goteo"

CAMPAIGNS = "dashboard/promociones/campanas/"
CAMPAIGN = CAMPAIGNS + "<int:pk>/"
PAIRING = "dashboard/promociones/numeros/<int:pk>/whatsapp/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", RedirectView.as_view(pattern_name="goteo:campaign_list", permanent=False), name="home"),
    path("dashboard/", RedirectView.as_view(pattern_name="goteo:campaign_list", permanent=False)),
    path("dashboard/ingresar/", auth.login, name="login"),
    path("dashboard/salir/", auth.logout, name="logout"),
    path("dashboard/idioma/", set_language, name="set_language"),
    path(CAMPAIGNS, campaigns.campaign_list, name="campaign_list"),
    path(CAMPAIGNS + "nueva/", campaign_form.campaign_new, name="campaign_new"),
    path(CAMPAIGNS + "nueva-automatizacion/", campaign_form.automation_new, name="automation_new"),
    path(CAMPAIGNS + "vista-previa/", campaign_form.campaign_preview, name="campaign_preview"),
    path(CAMPAIGN, campaigns.campaign_detail, name="campaign_detail"),
    path(CAMPAIGN + "en-vivo/", campaigns.campaign_live, name="campaign_live"),
    path(CAMPAIGN + "editar/", campaign_form.campaign_edit, name="campaign_edit"),
    path(CAMPAIGN + "iniciar/", campaign_actions.campaign_start, name="campaign_start"),
    path(CAMPAIGN + "pausar/", campaign_actions.campaign_pause, name="campaign_pause"),
    path(CAMPAIGN + "reanudar/", campaign_actions.campaign_resume, name="campaign_resume"),
    path(CAMPAIGN + "cancelar/", campaign_actions.campaign_cancel, name="campaign_cancel"),
    path(CAMPAIGN + "reintentar/", campaign_actions.campaign_retry_failed, name="campaign_retry_failed"),
    path(CAMPAIGN + "prueba/", campaign_actions.campaign_test_message, name="campaign_test_message"),
    path(CAMPAIGN + "destinatarios/", recipients.campaign_recipients, name="campaign_recipients"),
    path(CAMPAIGN + "resolver/", recipients.campaign_resolve_unknown, name="campaign_resolve_unknown"),
    path(CAMPAIGN + "resultados.csv", recipients.campaign_export, name="campaign_export"),
    path("dashboard/promociones/resultados/", results.results, name="results"),
    path("dashboard/promociones/contactos/", contacts.contact_list, name="contact_list"),
    path("dashboard/promociones/contactos/importar/", contact_import.contact_import, name="contact_import"),
    path(
        "dashboard/promociones/contactos/importar/confirmar/",
        contact_import.contact_import_confirm,
        name="contact_import_confirm",
    ),
    path(
        "dashboard/promociones/contactos/plantilla-contactos.csv",
        contact_import.contact_import_template,
        name="contact_import_template",
    ),
    path("dashboard/promociones/contactos/<int:pk>/baja/", contacts.contact_opt_out, name="contact_opt_out"),
    path("dashboard/promociones/segmentos/", segments.segment_list, name="segment_list"),
    path("dashboard/promociones/segmentos/nuevo/", segments.segment_new, name="segment_new"),
    path("dashboard/promociones/segmentos/<int:pk>/", segments.segment_edit, name="segment_edit"),
    path("dashboard/promociones/segmentos/<int:pk>/borrar/", segments.segment_delete, name="segment_delete"),
    path("dashboard/promociones/contactos/<int:pk>/datos/", contacts.contact_edit, name="contact_edit"),
    path("dashboard/promociones/numeros/", senders.sender_list, name="sender_list"),
    path("dashboard/promociones/numeros/nuevo/", senders.sender_new, name="sender_new"),
    path("dashboard/promociones/numeros/<int:pk>/", senders.sender_edit, name="sender_edit"),
    path("dashboard/promociones/numeros/<int:pk>/verificar/", senders.sender_check, name="sender_check"),
    path("dashboard/promociones/canjear/", redeem.redeem, name="redeem"),
    path("dashboard/promociones/respuestas/", replies.reply_list, name="reply_list"),
    path("dashboard/promociones/respuestas/<int:pk>/atendida/", replies.reply_handled, name="reply_handled"),
    path(CAMPAIGN + "respuestas/", replies.campaign_replies, name="campaign_replies"),
    path("dashboard/promociones/contactos/<int:pk>/", contacts.contact_detail, name="contact_detail"),
    path("dashboard/promociones/mensajes/", inbound.inbound_list, name="inbound_list"),
    path("dashboard/promociones/mensajes/<int:pk>/", inbound.inbound_match, name="inbound_match"),
    path("dashboard/promociones/equipo/", team.team, name="team"),
    path(PAIRING, pairing.sender_pairing, name="sender_pairing"),
    path(PAIRING + "estado/", pairing.sender_pairing_status, name="sender_pairing_status"),
    path(PAIRING + "conectar/", pairing.sender_pairing_connect, name="sender_pairing_connect"),
    path(PAIRING + "codigo/", pairing.sender_pairing_code, name="sender_pairing_code"),
    path(PAIRING + "desconectar/", pairing.sender_pairing_logout, name="sender_pairing_logout"),
    path(
        "dashboard/promociones/numeros/<int:pk>/levantar-freno/",
        senders.sender_unbrake,
        name="sender_unbrake",
    ),
    path("webhooks/", include("goteo.webhooks.urls")),
    # The REST API for the shop's other systems (docs/api.md), with its own tokens.
    path("api/v1/", api.urls),
    # A campaign's file for the providers that download it: no sign-in, the token is the secret.
    path("m/<str:token>/<str:name>", public_media.public_media, name="public_media"),
]
