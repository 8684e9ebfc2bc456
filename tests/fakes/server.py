"""A real HTTP server on 127.0.0.1, in the test process, that records every request.

Each fake provider subclasses ``FakeServer`` and answers like the real API. Tests script
faults in front of that behaviour with ``fail_next``: a ``Reply`` (any status and body,
optionally slow), ``HANG`` (read the request, then never answer: a timeout after the
provider accepted it) or ``DROP`` (read the request, then close the socket unanswered).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HANG = "hang"
DROP = "drop"


@dataclass
class Recorded:
    """One request exactly as it went over the wire."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Reply:
    """An answer: status, body (bytes, text or JSON), content type and an optional delay."""

    status: int = 200
    body: Any = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


HTML_502 = Reply(
    502,
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
    "text/html",
)

Answer = Reply | str
Match = Callable[[Recorded], bool]


class FakeServer:
    """Start with ``with FakeX() as server:``; ``server.url`` is its base URL."""

    hang_seconds = 10.0

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[tuple[Match, Answer]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None
        self.port = 0  # set before start() to come back on the same port after stop()
        self.thread: threading.Thread | None = None

    # --- to be written by each provider ---------------------------------------------------
    def answer(self, request: Recorded) -> Answer:
        return Reply(404, {"error": "not found"})

    # --- scripting ------------------------------------------------------------------------
    def fail_next(self, answer: Answer, *, times: int = 1, when: Match | None = None) -> None:
        """Answer the next ``times`` matching requests with ``answer`` instead of normally."""
        with self.lock:
            for _ in range(times):
                self.faults.append((when or (lambda r: True), answer))

    def scripted(self, request: Recorded) -> Answer | None:
        with self.lock:
            for index, (match, answer) in enumerate(self.faults):
                if match(request):
                    del self.faults[index]
                    return answer
        return None

    def requests_to(self, method: str, path_part: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # --- running --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake.lock:
                    fake.requests.append(recorded)
                answer = fake.scripted(recorded) or fake.answer(recorded)
                if answer == HANG:
                    fake.stopping.wait(fake.hang_seconds)
                    self.close_connection = True
                    return
                if answer == DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                assert isinstance(answer, Reply)
                if answer.delay:
                    fake.stopping.wait(answer.delay)
                payload = answer.encoded()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
