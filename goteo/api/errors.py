"""The API's errors, in Spanish and one shape: ``{"detail": "...", "errors": {"campo": [...]}}``.

``detail`` says what went wrong; a 400 adds ``errors``, each field as it was sent and its
messages. Keys stay in English like every key of the API (and ``campaign_status --json``);
the words a person reads are Spanish. Ninja answers bad input with a 422 and pydantic's
English; here it is a 400 naming the field.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

BAD_INPUT = "Hay datos no válidos; vea «errors»."
NO_TOKEN = "Falta el token: envíe la cabecera «Authorization: Bearer SU_TOKEN»."
WRONG_TOKEN = "El token no es válido: no existe, fue revocado o su usuario está desactivado."
NOT_FOUND = "No existe."

# pydantic's error types and what to tell the person instead of its English.
MESSAGES = {
    "missing": "falta este dato",
    "string_type": "debe ser texto",
    "string_too_short": "está vacío",
    "string_too_long": "es demasiado largo (máximo {max_length} caracteres)",
    "bool_type": "debe ser true o false",
    "bool_parsing": "debe ser true o false",
    "int_type": "debe ser un número entero",
    "int_parsing": "debe ser un número entero",
    "greater_than_equal": "debe ser {ge} o más",
    "dict_type": 'debe ser un objeto JSON, p. ej. {{"producto": "lentes de contacto"}}',
    "list_type": 'debe ser una lista, p. ej. ["vip"]',
    "too_long": "tiene demasiados elementos (máximo {max_length})",
    "extra_forbidden": "campo desconocido",
    "json_invalid": "el cuerpo no es JSON válido",
    "model_attributes_type": "el cuerpo debe ser un objeto JSON",
}
# Where ninja puts what it read; not part of the field's name for the person.
SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class FieldErrors(Exception):
    """Bad input found after parsing (a phone that is no number): field -> its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class Conflict(HttpError):
    """The request is fine but the thing is not in a state that allows it (409)."""

    def __init__(self, message: str) -> None:
        super().__init__(409, message)


def spanish(error: dict[str, Any]) -> str:
    """One pydantic error as a Spanish sentence (our own validators' messages pass as they are)."""
    kind = str(error.get("type", ""))
    if kind in MESSAGES:
        try:
            return MESSAGES[kind].format(**(error.get("ctx") or {}))
        except (KeyError, IndexError):
            return MESSAGES[kind].split(" (")[0]
    if kind.startswith("goteo") or kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ")
    if kind.startswith("date"):
        return "fecha no válida: escríbala AAAA-MM-DD, p. ej. 2026-03-31"
    return "valor no válido"


def field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """``("body", "payload", "attributes", "producto")`` -> ``"attributes.producto"``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in SOURCES:
        parts = parts[1:]
        if len(parts) > 1 and parts[0] == "payload":  # ninja's name for the whole body
            parts = parts[1:]
    return ".".join(parts) or "body"


def field_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        name = field_name(error.get("loc", ()))
        message = spanish(error)
        if message not in found.setdefault(name, []):
            found[name].append(message)
    return found


def install(api: NinjaAPI) -> None:
    """Make every error of ``api`` speak Spanish with the status a program expects."""

    # ninja types a handler's exception as "the exception or its class"; each here gets the exception.
    def respond(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
        return api.create_response(request, {"detail": detail, **extra}, status=status)

    def bad_input(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 400, BAD_INPUT, errors=field_errors(exc.errors))

    def bad_fields(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 400, BAD_INPUT, errors=exc.errors)

    def unauthenticated(request: HttpRequest, exc: Any) -> HttpResponse:
        has_header = bool(request.headers.get("Authorization"))
        response = respond(request, 401, WRONG_TOKEN if has_header else NO_TOKEN)
        response["WWW-Authenticate"] = "Bearer"
        return response

    def forbidden(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 403, exc.message)

    def throttled(request: HttpRequest, exc: Any) -> HttpResponse:
        seconds = math.ceil(exc.wait) if exc.wait else 60
        return respond(
            request,
            429,
            f"Demasiadas solicitudes con este token: espere {seconds} segundos e intente de nuevo.",
        )

    def not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        text = str(exc)
        return respond(request, 404, text if text.startswith("No ") else NOT_FOUND)

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if exc.status_code == 400:  # ninja's only one: a body it cannot read as JSON
            return respond(request, 400, BAD_INPUT, errors={"body": [MESSAGES["json_invalid"]]})
        return respond(request, exc.status_code, exc.message)

    api.add_exception_handler(ValidationError, bad_input)
    api.add_exception_handler(FieldErrors, bad_fields)
    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(AuthorizationError, forbidden)
    api.add_exception_handler(Throttled, throttled)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(HttpError, http_error)
