"""Many server-sent-event clients on one thread (non-blocking sockets), for tests and benchmarks."""

from __future__ import annotations

import selectors
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Client:
    sock: socket.socket
    raw: bytes = b""  # bytes received, still in HTTP chunk framing
    buffer: bytes = b""  # event-stream text not yet parsed
    status: int | None = None
    headers: dict = field(default_factory=dict)
    events: list = field(default_factory=list)  # (monotonic time, event type, data)
    comments: int = 0
    closed: bool = False


class Fleet:
    """Open `count` streams to http://host:port/path and record every event each receives."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str], count: int,
                 on_event=None, on_bytes=None):
        """`on_event(client, kind, data, when)` sees each event instead of it being stored;
        `on_bytes(client, data, when)` instead sees the body's bytes as they arrive, unparsed
        (the cheapest way to watch thousands of streams from one thread; any body bytes then
        count as the stream's first comment)."""
        self.host, self.port, self.path, self.count = host, port, path, count
        self.headers, self.on_event, self.on_bytes = headers, on_event, on_bytes
        self.selector = selectors.DefaultSelector()
        self.clients: list[Client] = []

    def open(self, timeout: float = 60) -> None:
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Accept: text/event-stream", *(f"{k}: {v}" for k, v in self.headers.items())]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        for _ in range(self.count):
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
            sock.sendall(request)
            sock.setblocking(False)
            client = Client(sock)
            self.clients.append(client)
            self.selector.register(sock, selectors.EVENT_READ, client)
        self.run_until(lambda: all(c.status is not None and c.comments for c in self.clients),
                       timeout, "every stream to open")

    def poll(self, wait: float = 0.05) -> None:
        for key, _ in self.selector.select(wait):
            client: Client = key.data
            try:
                chunk = client.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self._close(client)
                continue
            self._feed(client, chunk, time.monotonic())

    def run_until(self, predicate, timeout: float, what: str = "condition") -> float:
        start = time.monotonic()
        while not predicate():
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            self.poll()
        return time.monotonic() - start

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.poll(min(0.05, max(0.0, end - time.monotonic())))

    def _feed(self, client: Client, chunk: bytes, now: float) -> None:
        if client.status is None:
            client.raw += chunk
            head, sep, rest = client.raw.partition(b"\r\n\r\n")
            if not sep:
                return
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            client.status = int(status_line.split()[1])
            client.headers = {k.lower(): v.strip() for k, _, v in
                              (line.partition(":") for line in header_lines)}
            client.raw, chunk = b"", rest
        if self.on_bytes is not None:
            if chunk:
                client.comments = client.comments or 1
                self.on_bytes(client, chunk, now)
            return
        if client.headers.get("transfer-encoding") == "chunked":
            client.raw += chunk
            body, client.raw = unchunk(client.raw)
            client.buffer += body
        else:
            client.buffer += chunk
        while b"\n\n" in client.buffer:
            block, _, client.buffer = client.buffer.partition(b"\n\n")
            self._event(client, block.decode("utf-8", "replace"), now)

    def _event(self, client: Client, block: str, now: float) -> None:
        kind, data = None, []
        for line in block.split("\n"):
            if line.startswith(":"):
                client.comments += 1
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:])
        if kind is not None or data:
            if self.on_event is not None:
                self.on_event(client, kind, "\n".join(data), now)
            else:
                client.events.append((now, kind, "\n".join(data)))

    def _close(self, client: Client) -> None:
        client.closed = True
        try:
            self.selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()

    def close(self) -> None:
        for client in self.clients:
            if not client.closed:
                self._close(client)
        self.selector.close()


def unchunk(raw: bytes) -> tuple[bytes, bytes]:
    """Decode complete HTTP chunks; returns (body so far, framing left for the next read)."""
    out, pos = [], 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            break
        size = int(raw[pos:end].split(b";")[0] or b"0", 16)
        if len(raw) < end + 2 + size + 2:
            break
        out.append(raw[end + 2:end + 2 + size])
        pos = end + 2 + size + 2
    return b"".join(out), raw[pos:]
