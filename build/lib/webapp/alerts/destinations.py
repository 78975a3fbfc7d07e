"""Where alerts go: URLs on public addresses only (unless the install allows private ones),
checked when a rule is saved and again, address by address, at every delivery, which gets a
complete answer within a total time limit or gives up."""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from webapp.errors import DestinationRefused as Refused

TIMEOUT_SECONDS = 5  # per attempt, all included: connection, TLS, request and the whole answer
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a network's own translator


class Deadline:
    """One time limit over many socket operations: each may take only the time left."""

    def __init__(self, seconds: float):
        self.seconds, self.end = seconds, time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> TimeoutError:
        return TimeoutError(f"no complete answer within {self.seconds:g} s")


def is_public(address: str) -> bool:
    """True for a globally routable unicast address. An IPv6 address that carries an IPv4 one
    (which a host, a translator or a tunnel relay may deliver to) must carry a public one: an
    IPv4-mapped address is judged as its IPv4 address alone; the local-use NAT64 prefix is
    never public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _routable(ip.ipv4_mapped)
        if ip in NAT64_LOCAL:
            return False
        return _routable(ip) and all(_routable(inner) for inner in carried_ipv4(ip))
    return _routable(ip)


def _routable(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def carried_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses inside an IPv6 one: IPv4-compatible `::a.b.c.d`, IPv4-mapped
    `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`
    and Teredo's server and client."""
    packed = ip.packed
    if (packed[:12] in (bytes(12), bytes(10) + b"\xff\xff", bytes(8) + b"\xff\xff\0\0")
            or ip in NAT64):
        return [ipaddress.IPv4Address(packed[12:])]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def split(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of an http(s) URL; raises Refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("use an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise Refused("put no credentials in the URL")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, ascii_host(parts.hostname), port, path


def ascii_host(host: str) -> str:
    """The host as DNS spells it (IDNA), checked here: left to the resolver, a label over 63
    characters fails inside gevent's resolver threads, which print the traceback."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("not a valid host name (each part between dots is 1 to 63 "
                      "characters)") from None


def addresses(host: str, port: int, allow_private: bool,
              deadline: Deadline | None = None) -> list[str]:
    """Every address `host` resolves to, all of them public unless private ones are allowed;
    raises Refused otherwise (TimeoutError when the lookup outlasts the deadline)."""
    try:
        found = (socket.getaddrinfo(host, port, type=socket.SOCK_STREAM) if deadline is None
                 else _lookup(host, port, deadline))
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    result = list(dict.fromkeys(info[4][0] for info in found))
    if not allow_private:
        private = [address for address in result if not is_public(address)]
        if private:
            raise Refused(f"{host} resolves to a private or loopback address "
                          f"({', '.join(private)}); this install does not send there")
    return result


def _lookup(host: str, port: int, deadline: Deadline) -> list:
    """getaddrinfo within the time left: the resolver's own timeouts are longer, and a slow
    name server may be the destination owner's. A lookup past the time finishes in its
    thread, unwaited."""
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["found"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # handed to the caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="alert-destination-lookup", daemon=True).start()
    if not done.wait(deadline.left()):
        raise TimeoutError(f"no address for {host} within {deadline.seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["found"]


def check_url(url: str, allow_private: bool) -> str | None:
    """Why a rule may not send to `url`, or None. Where private addresses are allowed any
    host will do (it is resolved at delivery); otherwise it must resolve, and only to public
    addresses."""
    if len(url.strip()) > 2000:
        return "A URL of at most 2,000 characters."
    try:
        _, host, port, _ = split(url)
        if not allow_private:
            addresses(host, port, allow_private)
    except Refused as exc:
        return str(exc)[0].upper() + str(exc)[1:] + "."
    return None


@dataclass
class Answer:
    status: int
    body: bytes


class _TimedReader(io.RawIOBase):
    """A socket's reads, each allowed only the time left before the deadline (a socket's own
    timeout is per read: a byte every few seconds would never trip it)."""

    def __init__(self, sock: socket.socket, deadline: Deadline):
        self._sock, self._raw, self._deadline = sock, sock.makefile("rb", buffering=0), deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        self._sock.settimeout(self._deadline.left())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _TimedResponse(http.client.HTTPResponse):
    """The status line, headers and body, all read before the deadline."""

    def __init__(self, sock, debuglevel=0, method=None, url=None, *, deadline: Deadline):
        super().__init__(sock, debuglevel, method, url)
        self.fp.close()
        self.fp = io.BufferedReader(_TimedReader(sock, deadline))


class _Pinned(http.client.HTTPConnection):
    """A connection to an address already checked (a second lookup could answer otherwise),
    every step of which (connecting, TLS, sending, reading) ends by the deadline."""

    def __init__(self, host, port, address, deadline: Deadline, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address, self.deadline = address, deadline
        self.response_class = partial(_TimedResponse, deadline=deadline)

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), self.deadline.left())
        sock.settimeout(self.deadline.left())
        return sock

    def connect(self):
        self.sock = self._open()

    def send(self, data):
        if self.sock is not None:
            self.sock.settimeout(self.deadline.left())
        super().send(data)


class _PinnedTLS(_Pinned, http.client.HTTPSConnection):
    def __init__(self, host, port, address, deadline: Deadline):
        super().__init__(host, port, address, deadline, context=ssl.create_default_context())

    def connect(self):
        # the handshake is one operation under the socket's timeout: the time left
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, allow_private: bool,
         timeout: float = TIMEOUT_SECONDS) -> Answer:
    """POST to the first checked address of the URL's host that connects; no redirects are
    followed. The whole attempt (every address tried, TLS, the request and the answer's first
    2,000 bytes) ends within `timeout` seconds. Raises Refused, or OSError (TimeoutError past
    the deadline) when no address answers in time."""
    scheme, host, port, path = split(url)
    deadline = Deadline(timeout)
    last: OSError | None = None
    for address in addresses(host, port, allow_private, deadline):
        kind = _PinnedTLS if scheme == "https" else _Pinned
        connection = kind(host, port, address, deadline)
        try:
            try:
                connection.connect()
            except OSError as exc:  # this address does not answer: the next one may
                last = exc
                continue
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.read(2000))
        except TimeoutError:
            raise deadline.expired() from None
        finally:
            connection.close()
    if isinstance(last, TimeoutError):
        raise deadline.expired() from None
    raise last or OSError(f"no address of {host} answered")
