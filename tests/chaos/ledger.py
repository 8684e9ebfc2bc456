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
import asyncio
import contextlib
import json
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httpx

from goteo.transports.base import OutgoingMessage, SendError, Transport
from goteo.transports.http import make_client, request

OK, STALL, ERROR500, DROP, THROTTLE, REJECT = "ok", "stall", "error500", "drop", "throttle", "reject"
DELIVERING = {OK, STALL, ERROR500, DROP}
Plan = Callable[[dict[str, Any], int], str]  # (payload, previous tries of this id) -> mode
BACKLOG = 256  # connections the kernel queues before accepting: a burst of workers opens hundreds


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


class LedgerServer:
    """Start with ``with LedgerServer(...) as server:``; ``server.url`` is its base URL.

    The server is a handful of callbacks on an asyncio event loop in a daemon thread, on
    plain non-blocking sockets: no thread, task or stream per request. The benchmark runs it
    on the same cores as the workers it measures, so a request must cost it little. Each
    connection carries one request and is closed after the answer.
    """

    def __init__(self, plan: Plan | None = None, *, latency: float = 0.0, stall_seconds: float = 3.0) -> None:
        self.plan = plan or always(OK)
        self.latency = latency
        self.stall_seconds = stall_seconds
        self.deliveries: Counter[str] = Counter()  # phone -> times delivered
        self.delivered_ids: Counter[str] = Counter()  # goteo message id -> times delivered
        self.tries: Counter[str] = Counter()  # goteo message id -> requests received
        self.modes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # set by stop(): no more waiting
        self.loop: asyncio.AbstractEventLoop | None = None
        self.listener: socket.socket | None = None
        self.thread: threading.Thread | None = None
        self.connections: set[Connection] = set()

    @property
    def url(self) -> str:
        assert self.listener is not None
        host, port = self.listener.getsockname()[:2]
        return f"http://{host}:{port}"

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
        """Listen on 127.0.0.1:``port`` (0: any free port) and serve from a daemon thread."""
        self.listener = socket.create_server(("127.0.0.1", port), backlog=BACKLOG)
        self.listener.setblocking(False)
        self.loop = asyncio.new_event_loop()
        self.loop.add_reader(self.listener, self.accept)
        self.thread = threading.Thread(target=self.loop.run_forever, name="ledger", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Close the port, answer every waiting request at once, and end the loop."""
        self.stopping.set()
        loop, self.loop = self.loop, None
        if loop is None:
            return
        loop.call_soon_threadsafe(self.shut_down)
        assert self.thread is not None
        self.thread.join(timeout=5)
        loop.close()

    def shut_down(self) -> None:
        """In the loop: stop listening, cut every wait short, close what is left, stop."""
        assert self.loop is None and self.listener is not None
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.listener)
        self.listener.close()
        for connection in list(self.connections):
            connection.wake()
        for connection in list(self.connections):
            connection.close()  # still reading from a silent client, or its answer is stuck
        loop.stop()

    def accept(self) -> None:
        """Take the connections waiting in the backlog and start reading each one."""
        assert self.listener is not None
        for _ in range(BACKLOG):
            try:
                sock, _ = self.listener.accept()
            except OSError:  # none left (BlockingIOError), or one that died in the backlog
                return
            sock.setblocking(False)
            connection = Connection(self, sock)
            self.connections.add(connection)
            connection.read()

    def handle(self, connection: Connection, method: str, body: bytes) -> None:
        """A whole request has arrived: record it, then answer it after the latency."""
        if method == "GET":
            with self.lock:
                snapshot = {"deliveries": dict(self.deliveries), "modes": dict(self.modes)}
            connection.reply(200, snapshot)
        elif method != "POST":
            connection.reply(501, {"error": f"unsupported method {method}"})
        elif not body:
            connection.close()  # a POST without a message delivers nothing
        else:
            payload = json.loads(body)
            mode = self.receive(payload)
            connection.pause(self.latency, lambda: self.answer(connection, mode, payload))

    def answer(self, connection: Connection, mode: str, payload: dict[str, Any]) -> None:
        if mode == STALL:
            late = {"id": f"late-{payload.get('id')}"}
            connection.pause(self.stall_seconds, lambda: connection.reply(200, late))
        elif mode == DROP:
            connection.drop()
        elif mode == ERROR500:
            connection.reply(500, {"error": "internal error"})
        elif mode == THROTTLE:
            connection.reply(429, {"error": "too many requests"}, "Retry-After: 1\r\n")
        elif mode == REJECT:
            connection.reply(400, {"error": "not a WhatsApp number"})
        else:
            connection.reply(200, {"id": f"led-{payload.get('id')}"})


class Connection:
    """One client socket of a ``LedgerServer``: read one request, wait, answer, close.

    Every method runs in the server's event loop. A client that vanishes at any point only
    gets its socket closed: whatever it had sent in full stays in the ledger.
    """

    def __init__(self, server: LedgerServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.loop = asyncio.get_running_loop()
        self.data = b""
        self.reading = False  # registered with the loop for more of the request
        self.writing = False  # registered with the loop to send the rest of the answer
        self.timer: asyncio.TimerHandle | None = None
        self.then: Callable[[], None] | None = None  # what to do when the wait is over
        self.out = b""

    def read(self) -> None:
        """Read what has arrived; once the request is whole, hand it to the server."""
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            chunk = None
        except OSError:
            chunk = b""
        if chunk == b"":  # the client closed before its request was complete
            self.close()
            return
        self.data += chunk or b""
        request = self.request()
        if request is None:
            if not self.reading:
                self.loop.add_reader(self.sock, self.read)
                self.reading = True
            return
        if self.reading:
            self.loop.remove_reader(self.sock)
            self.reading = False
        try:
            self.server.handle(self, *request)
        except ValueError:  # not JSON, or a Content-Length that is not a number
            self.close()

    def request(self) -> tuple[str, bytes] | None:
        """The method and body once the request has fully arrived, else None."""
        head, complete, body = self.data.partition(b"\r\n\r\n")
        if not complete:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method = lines[0].split(" ", 1)[0]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if method == "POST" and len(body) < length:
            return None
        return method, body[:length]

    def pause(self, seconds: float, then: Callable[[], None]) -> None:
        """Call ``then`` after ``seconds``, or at once if the server is stopping."""
        if not seconds or self.server.stopping.is_set():
            then()
            return
        self.then = then
        self.timer = self.loop.call_later(seconds, self.wake)

    def wake(self) -> None:
        """End the wait now, if there is one."""
        then, self.then = self.then, None
        if then is not None:
            assert self.timer is not None
            self.timer.cancel()
            then()

    def reply(self, status: int, body: Any, headers: str = "") -> None:
        """Send a JSON answer and close; ``headers`` are extra header lines, each ending in CRLF."""
        data = json.dumps(body).encode()
        self.out = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: close\r\n{headers}\r\n"
        ).encode("latin-1") + data
        self.write()

    def write(self) -> None:
        """Send what the socket takes now; the loop calls again for the rest."""
        try:
            self.out = self.out[self.sock.send(self.out) :]
        except BlockingIOError:
            pass
        except OSError:  # the client was killed while we waited or answered
            self.out = b""
        if not self.out:
            self.close()
        elif not self.writing:
            self.loop.add_writer(self.sock, self.write)
            self.writing = True

    def drop(self) -> None:
        """Close without answering, as a provider that crashed mid-request would."""
        with contextlib.suppress(OSError):  # the client may have gone already
            self.sock.shutdown(socket.SHUT_RDWR)
        self.close()

    def close(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.sock)
        if self.writing:
            self.loop.remove_writer(self.sock)
        self.reading = self.writing = False
        self.sock.close()
        self.server.connections.discard(self)


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
