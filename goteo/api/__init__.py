"""goteo's REST API under /api/v1/, for the shop's other systems (docs/api.md).

Built with Django Ninja: bearer tokens per user (goteo.api.auth), each endpoint behind the
permission of the user's role, a rate limit per token (goteo.api.limits), Spanish errors
with 400 for bad input (goteo.api.errors). The OpenAPI schema (/api/v1/openapi.json) and
its documentation page (/api/v1/docs) open without signing in: they describe the API and
hold no data; every endpoint asks for a token.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from ninja import NinjaAPI, Swagger
from ninja.renderers import JSONRenderer

from goteo.api import errors
from goteo.api.auth import BearerToken
from goteo.api.campaigns import automations, campaigns
from goteo.api.contacts import router as contacts
from goteo.api.limits import PerToken

DESCRIPTION = (
    "La API de goteo para los demás sistemas de la tienda: crear o actualizar contactos con su "
    "consentimiento, fechas y datos; darlos de baja; ver y pausar campañas y automatizaciones; "
    "leer los resultados de sus mensajes.\n\n"
    "Cada solicitud lleva la cabecera `Authorization: Bearer SU_TOKEN` (se crea con "
    "`goteo api_token USUARIO`). El token actúa con los permisos de su usuario. Los datos no "
    "válidos responden 400 con `errors` por campo; sin token, 401; sin permiso, 403; demasiadas "
    "solicitudes, 429 con `Retry-After`."
)

NAMESPACE = "goteo_api"


def api_url(name: str, path_params: dict[str, Any]) -> str:
    """One of the API's URLs. ninja reverses them by the API's namespace alone; here it is
    nested in goteo's ("goteo:goteo_api"), or alone when a project mounts ``api.urls`` itself."""
    try:
        return reverse(f"goteo:{NAMESPACE}:{name}", kwargs=path_params)
    except NoReverseMatch:
        return reverse(f"{NAMESPACE}:{name}", kwargs=path_params)


class Spanish(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # «inválido», not «inv\\u00e1lido», for whoever reads it


class GoteoAPI(NinjaAPI):
    def get_root_path(self, path_params: dict[str, Any]) -> str:
        return api_url("api-root", path_params)


class Docs(Swagger):
    def get_openapi_url(self, api: NinjaAPI, path_params: dict[str, Any]) -> str:
        return api_url("openapi-json", path_params)


api = GoteoAPI(
    title="goteo · API",
    version="1",
    description=DESCRIPTION,
    urls_namespace=NAMESPACE,
    docs=Docs(),
    renderer=Spanish(),
    auth=BearerToken(),
    throttle=PerToken(),
)
errors.install(api)
api.add_router("/contacts/", contacts)
api.add_router("/campaigns/", campaigns)
api.add_router("/automations/", automations)

__all__ = ["api"]
