"""A fake WhatsApp provider that keeps a ledger of deliveries, and the transport that calls it.

The server records a delivery as soon as it has read a request, before it answers, so it
can model every way a send goes wrong after the message went out:

  ok        deliver, answer 200 with an id
  stall     deliver, then answer only after the client's read timeout (a timeout)
  error500  deliver, then answer 500
  drop      deliver, then close the connection without answering
  throttle  do not deliver, answer 429 with Retry-After
  reject    do not deliver, answer 400 (this number cannot receive it)

``plan`` chooses the mode of each request; ``seeded_plan`` draws modes at random but
reproducibly from the message id and how many times it was tried. The transport goes
through goteo's real HTTP client (goteo.transports.http), so its timeouts and error
classification are the ones under test.

Run it on its own with ``python -m tests.chaos.ledger --latency 0.05``: it prints its URL,
and ``GET /ledger`` returns the deliveries per phone.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from goteo.transports.base import OutgoingMessage, SendError, Transport
from goteo.transports.http import make_client, request

OK, STALL, ERROR500, DROP, THROTTLE, REJECT = "ok", "stall", "error500", "drop", "throttle", "reject"
DELIVERING = {OK, STALL, ERROR500, DROP}
Plan = Callable[[dict[str, Any], int], str]  # (payload, previous tries of this id) -> mode


def always(mode: str) -> Plan:
    return lambda payload, tries: mode


def seeded_plan(seed: int, weights: dict[str, float]) -> Plan:
    """Modes drawn with ``weights`` (the rest is ``ok``), the same for the same id and try."""
    modes = list(weights)
    chances = [weights[m] for m in modes]

    def plan(payload: dict[str, Any], tries: int) -> str:
        draw = random.Random(f"{seed}:{payload.get('id')}:{tries}").random()
        for mode, chance in zip(modes, chances, strict=True):
            if draw < chance:
                return mode
            draw -= chance
        return OK

    return plan


class LedgerHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # read by listen() in __init__: setting it afterwards does nothing


class LedgerServer:
    """Start with ``with LedgerServer(...) as server:``; ``server.url`` is its base URL."""

    def __init__(self, plan: Plan | None = None, *, latency: float = 0.0, stall_seconds: float = 3.0) -> None:
        self.plan = plan or always(OK)
        self.latency = latency
        self.stall_seconds = stall_seconds
        self.deliveries: Counter[str] = Counter()  # phone -> times delivered
        self.delivered_ids: Counter[str] = Counter()  # goteo message id -> times delivered
        self.tries: Counter[str] = Counter()  # goteo message id -> requests received
        self.modes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def duplicates(self) -> dict[str, int]:
        """Phones that received more than one message."""
        with self.lock:
            return {phone: n for phone, n in self.deliveries.items() if n > 1}

    def total(self) -> int:
        with self.lock:
            return sum(self.deliveries.values())

    def receive(self, payload: dict[str, Any]) -> str:
        """Decide and record what happens to one request; returns the mode."""
        with self.lock:
            message_id = str(payload.get("id"))
            mode = self.plan(payload, self.tries[message_id])
            self.tries[message_id] += 1
            self.modes[mode] += 1
            if mode in DELIVERING:
                self.deliveries[str(payload.get("to"))] += 1
                self.delivered_ids[message_id] += 1
            return mode

    def __enter__(self) -> LedgerServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, port: int = 0) -> None:
        ledger = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with ledger.lock:
                    body = {"deliveries": dict(ledger.deliveries), "modes": dict(ledger.modes)}
                self.reply(200, body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length or not length:
                    # The worker died before its message had fully arrived: nothing was delivered.
                    self.close_connection = True
                    return
                payload = json.loads(body)
                mode = ledger.receive(payload)
                if ledger.latency:
                    ledger.stopping.wait(ledger.latency)
                try:
                    self.answer(mode, payload)
                except OSError:  # the worker was killed while we answered
                    self.close_connection = True

            def answer(self, mode: str, payload: dict[str, Any]) -> None:
                if mode == STALL:
                    ledger.stopping.wait(ledger.stall_seconds)
                    self.reply(200, {"id": f"late-{payload.get('id')}"})
                elif mode == DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif mode == ERROR500:
                    self.reply(500, {"error": "internal error"})
                elif mode == THROTTLE:
                    self.reply(429, {"error": "too many requests"}, {"Retry-After": "1"})
                elif mode == REJECT:
                    self.reply(400, {"error": "not a WhatsApp number"})
                else:
                    self.reply(200, {"id": f"led-{payload.get('id')}"})

            def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

        self.httpd = LedgerHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


class LedgerTransport(Transport):
    """Sends to a ``LedgerServer`` through goteo's HTTP client. Config: base_url, read_timeout."""

    name = "ledger"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        timeout = float(self.config.get("read_timeout", 1.0))
        self.client: httpx.Client = make_client(self.config["base_url"], read_timeout=timeout)

    def send(self, message: OutgoingMessage) -> str:
        payload = {"to": message.to, "text": message.text, "id": message.message_id}
        response = request(self.client, "POST", "/messages", json=payload)
        if response.status_code == 200:
            return str(response.json()["id"])
        if response.status_code == 429:
            wait = float(response.headers.get("Retry-After") or 1)
            raise SendError(SendError.RETRY, "el proveedor pidió esperar", code="429", retry_after=wait)
        if 400 <= response.status_code < 500:
            raise SendError(SendError.PERMANENT, "el proveedor rechazó el número", code="400")
        raise SendError(SendError.UNKNOWN, f"el proveedor respondió {response.status_code}")

    def close(self) -> None:
        self.client.close()


def ledger_factory(sender: Any) -> Transport:
    """A ``transport_factory`` for in-process engines and workers."""
    return LedgerTransport(sender.config)


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake provider with a delivery ledger.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    server = LedgerServer(latency=args.latency)
    server.start(args.port)
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
