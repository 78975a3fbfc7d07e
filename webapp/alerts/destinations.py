"""Where alerts go: URLs on public addresses only (unless the install allows private ones),
checked when a rule is saved and again, address by address, at every delivery."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 5


class Refused(Exception):
    """A destination we will not send to (private address, bad URL, unresolvable host)."""


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (an IPv4-mapped IPv6 one is judged as the
    IPv4 address it carries)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
    return parts.scheme, parts.hostname, port, path


def addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address `host` resolves to, all of them public unless private ones are allowed;
    raises Refused otherwise."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    result = list(dict.fromkeys(info[4][0] for info in found))
    if not allow_private:
        private = [address for address in result if not is_public(address)]
        if private:
            raise Refused(f"{host} resolves to a private or loopback address "
                          f"({', '.join(private)}); this install does not send there")
    return result


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


class _Pinned(http.client.HTTPConnection):
    """A connection to an address already checked (a second lookup could answer otherwise)."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, allow_private: bool,
         timeout: float = TIMEOUT_SECONDS) -> Answer:
    """POST to the first checked address of the URL's host that connects; no redirects are
    followed. Raises Refused, or OSError when no address answers."""
    scheme, host, port, path = split(url)
    last: OSError | None = None
    for address in addresses(host, port, allow_private):
        kind = _PinnedTLS if scheme == "https" else _Pinned
        connection = kind(host, port, address, timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:  # this address does not answer: the next one may
                last = exc
                continue
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.read(2000))
        finally:
            connection.close()
    raise last or OSError(f"no address of {host} answered")
