"""The shared HTTP plumbing: URLs joined once give what httpx itself would request, and
the TLS context is built once however many threads ask for it."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from goteo.transports import http
from goteo.transports.base import SendError
from goteo.transports.http import endpoint, make_client


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("https://graph.facebook.com/v21.0", "/123456/messages"),
        ("http://gateway:8080/evolution/", "message/sendText/tienda"),
        ("https://api.twilio.com", "/2010-04-01/Accounts/AC1/Messages.json?PageSize=1"),
        ("http://127.0.0.1:3000/base", "/api/sessions/mi%20sesi%C3%B3n"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:4000/elsewhere"),
    ],
)
def test_a_joined_url_is_the_one_httpx_would_request(base_url, url):
    client = make_client(base_url)
    joined = endpoint(str(client.base_url), url)
    assert joined == client.build_request("POST", url).url
    assert endpoint(str(client.base_url), url) is joined  # parsed once, then reused


def test_threads_starting_together_build_one_tls_context(monkeypatch):
    built = []

    def slow_context():
        built.append(threading.get_ident())
        time.sleep(0.05)  # long enough for every other thread to ask meanwhile
        return object()

    monkeypatch.setattr(http.httpx, "create_ssl_context", slow_context)
    http.shared_tls_context.cache_clear()
    start = threading.Barrier(8)
    seen = []

    def open_client():
        start.wait()
        seen.append(http.tls_context())

    threads = [threading.Thread(target=open_client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    http.shared_tls_context.cache_clear()  # the next test gets a real context again
    assert len(built) == 1
    assert len({id(context) for context in seen}) == 1


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: a connection there is refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_reads_in_plain_spanish():
    client = make_client(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(SendError) as failed:
        http.request(client, "GET", "/")
    assert failed.value.kind == SendError.RETRY
    assert failed.value.reason == "no se pudo conectar con 127.0.0.1: el servidor no aceptó la conexión"


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        # httpx wraps the socket error's text (httpcore's map_exceptions keeps str(exc)).
        (httpx.ConnectError("[Errno 111] Connection refused"), "el servidor no aceptó la conexión"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "no se encontró la dirección"),
        (
            httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
            "no se encontró la dirección",
        ),
        (httpx.ConnectTimeout("timed out"), "no respondió a tiempo"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "su certificado"),
        (httpx.ConnectError("something else"), "la red no dejó llegar a él"),
    ],
)
def test_a_connection_problem_is_said_without_the_raw_error(exc, words):
    text = http.connect_problem(exc)
    assert text.startswith(words)
    assert "Errno" not in text and "Error" not in text
