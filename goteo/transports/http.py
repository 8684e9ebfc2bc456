"""The HTTP plumbing every provider shares: timeouts, and what a failed request means.

Whether a failed request may have reached the provider decides everything: a refused
connection certainly did not, so the message can go back to the queue; a read timeout or a
dropped connection after the request went out may have been delivered, so it is "unknown"
and never retried automatically.
"""

from __future__ import annotations

import json
import ssl
import threading
from functools import cache, lru_cache
from typing import Any

import httpx
from django.utils.translation import gettext

from goteo.transports.base import SendError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0


TLS_LOCK = threading.Lock()


def tls_context() -> ssl.SSLContext:
    """The certificate-verifying TLS context every client shares.

    Building one reads the whole CA bundle (tens of milliseconds of processor time), and
    a worker opens a client per number; a context is safe to share between threads. It is
    built under a lock: at a worker's start its threads open their clients all at once,
    and each would otherwise build its own (with a hundred numbers, over a second of
    processor time before the first message).
    """
    with TLS_LOCK:
        return shared_tls_context()


@cache
def shared_tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def make_client(
    base_url: str,
    *,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    read_timeout: float = READ_TIMEOUT,
) -> httpx.Client:
    """An ``httpx.Client`` with explicit connect and read timeouts and no kept-alive sockets.

    Sends are seconds apart, so reusing a connection gains nothing and risks writing into
    one the server has just closed, which would turn a clean send into an unknown one.
    """
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        headers=headers or {},
        auth=auth,
        verify=tls_context(),
        timeout=httpx.Timeout(
            connect=CONNECT_TIMEOUT, read=read_timeout, write=read_timeout, pool=CONNECT_TIMEOUT
        ),
        limits=httpx.Limits(max_keepalive_connections=0),
        follow_redirects=False,
    )


@lru_cache(maxsize=1024)
def endpoint(base_url: str, url: str) -> httpx.URL:
    """``url`` joined to a client's ``base_url`` the way httpx joins them, parsed once.

    Given a relative path, httpx parses it and the joined URL on every request: about a
    tenth of the worker's processor time at a few hundred messages a second. A provider's
    paths are few (one per number and endpoint), so each is joined and parsed once.
    """
    merge = httpx.URL(url)
    if not merge.is_relative_url:
        return merge
    base = httpx.URL(base_url)
    path = base.raw_path if base.raw_path.endswith(b"/") else base.raw_path + b"/"
    return base.copy_with(raw_path=path + merge.raw_path.lstrip(b"/"))


def request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Make one request; a transport failure becomes a ``SendError`` of the right kind."""
    try:
        return client.request(method, endpoint(str(client.base_url), url), **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError) as exc:
        raise SendError(
            SendError.RETRY,
            gettext("no se pudo conectar con %(host)s: %(error)s")
            % {"host": host_of(client), "error": connect_problem(exc)},
        ) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise SendError(
            SendError.DISCONNECTED,
            gettext("la URL del proveedor no es válida: %(error)s") % {"error": describe(exc)},
        ) from exc
    except httpx.TimeoutException as exc:
        raise SendError(
            SendError.UNKNOWN,
            gettext("%(host)s no respondió a tiempo después de recibir el mensaje")
            % {"host": host_of(client)},
        ) from exc
    except httpx.TransportError as exc:
        raise SendError(
            SendError.UNKNOWN,
            gettext("se cortó la conexión con %(host)s después de enviar") % {"host": host_of(client)},
        ) from exc


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or ``None`` when the body is empty or not JSON (an HTML page)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


def host_of(client: httpx.Client) -> str:
    return client.base_url.host or str(client.base_url)


# What the operating system says when a connection cannot start, and the same in the shop's
# words (Linux, macOS and Windows wordings of ECONNREFUSED, EAI_NONAME/EAI_AGAIN, ETIMEDOUT).
REFUSED = ("connection refused", "errno 111", "errno 61", "winerror 10061")
NOT_FOUND = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
    "errno -2",
    "errno -3",
    "errno -5",
    "errno 8",
    "errno 11001",
)
TIMED_OUT = ("timed out", "errno 110", "errno 60")


def connect_problem(exc: Exception) -> str:
    """Why a connection could not start, in plain Spanish (the raw text is for the logs only)."""
    text = " ".join(str(e) for e in chain(exc)).lower()
    if isinstance(exc, httpx.ProxyError):
        return gettext("el proxy de la red no dejó pasar la conexión")
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)) or any(w in text for w in TIMED_OUT):
        return gettext("no respondió a tiempo")
    if any(w in text for w in REFUSED):
        return gettext("el servidor no aceptó la conexión")
    if any(w in text for w in NOT_FOUND):
        return gettext("no se encontró la dirección")
    if "certificate" in text or "ssl" in text:
        return gettext("su certificado de seguridad no es válido")
    return gettext("la red no dejó llegar a él")


def chain(exc: BaseException) -> list[BaseException]:
    """An exception and the ones it was raised from (httpx keeps the socket error there)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def describe(exc: Exception) -> str:
    """A short description of a transport error that never includes the request's headers."""
    return type(exc).__name__ + (f" ({exc})" if str(exc) else "")


def snippet(response: httpx.Response, limit: int = 200) -> str:
    """The start of a response body for an error message, on one line."""
    text = " ".join(response.text.split())
    return text[:limit] + ("…" if len(text) > limit else "")
