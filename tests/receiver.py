"""An HTTP receiver on loopback that records alert deliveries and can answer with failures,
and slow receivers that answer a byte at a time, or never."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Delivery:
    at: float
    headers: dict
    body: bytes
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give first, then 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def of_type(self, kind: str) -> list[Delivery]:
        return [d for d in list(self.deliveries) if d.json.get("type") == kind]


@pytest.fixture
def receiver():
    box: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = box["receiver"].answer()
            box["receiver"].deliveries.append(
                Delivery(time.monotonic(), {k.lower(): v for k, v in self.headers.items()},
                         body, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box["receiver"]
    server.shutdown()
    server.server_close()


STATUS = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
HANDSHAKE = b"\x16\x03\x03\x00\x40"  # the header of a TLS handshake record of 64 bytes


@contextmanager
def slow_receiver(first: bytes = b"", trickle: bytes = b"", every: float = 2.0,
                  hold: float = 15.0) -> Iterator[str]:
    """A TCP server on loopback (yields its `host:port`) that takes each connection, sends
    `first` at once, then `trickle` one byte every `every` seconds (then nothing), and closes
    the connection after `hold` seconds; it never reads the request."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            try:
                connection.sendall(first)
                ends = time.monotonic() + hold
                for byte in trickle:
                    if stop.wait(every) or time.monotonic() > ends:
                        return
                    connection.sendall(bytes([byte]))
                stop.wait(max(0.0, ends - time.monotonic()))
            except OSError:  # the client gave up
                pass

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        listener.close()
