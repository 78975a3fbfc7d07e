"""Raw HTTP against real gunicorn: chunked bodies are held to the same 1 MB as any other, and
a NUL in a delivery header never reaches the queue."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.helpers import INGEST_HEADERS, settle, wait_stored
from tests.integration.ingest.test_signed_webhooks import signed_headers
from webapp.tenancy.tenants import add_signing_secret

# an accepted body is stored by the session's workers, which a test
# before may have stopped (the live server is the session's: it does not start them again)
pytestmark = pytest.mark.usefixtures("worker")

MB = 1024 * 1024


@pytest.fixture
def secret(app, project):
    with app.app_context():
        return add_signing_secret(project, "sender").secret


def chunks(body: bytes, size: int = 64 * 1024):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def post_chunked(url: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    """POST with Transfer-Encoding: chunked and no Content-Length; returns status and JSON."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", path, body=chunks(body), encode_chunked=True,
                           headers={"Content-Type": "application/json", **headers,
                                    "Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    except (BrokenPipeError, ConnectionResetError):  # the server answered and closed early
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def big_body() -> bytes:
    event = {"eventType": "a", "userId": "u", "metadata": {"pad": "x" * 15000}}
    return json.dumps([event] * 80).encode()  # 1.2 MB of otherwise valid events


ROUTES = {
    "keyed fast path": ("/webhook", lambda secret: INGEST_HEADERS),
    "keyed and signed (Flask view)": (
        "/webhook", lambda secret: {**INGEST_HEADERS, **signed_headers(secret, "m1", body="")}),
    "signed": ("/webhook/default", lambda secret: signed_headers(secret, "m2", body="")),
}


@pytest.mark.parametrize("route", ROUTES)
def test_chunked_body_over_one_megabyte_is_413(live_server, app, secret, route):
    path, headers = ROUTES[route]
    body = big_body()
    assert len(body) > MB
    status, answer = post_chunked(live_server.url, path, body, headers(secret))
    assert status == 413, answer
    assert answer["message"] == "Request body too large: at most 1 MB"
    assert settle(app, 0.5) == 0


def test_chunked_body_under_the_limit_is_accepted(live_server, app, project):
    body = json.dumps([{"eventType": "a", "userId": "u"}] * 3).encode()
    status, answer = post_chunked(live_server.url, "/webhook", body, INGEST_HEADERS)
    assert status == 202, answer
    assert wait_stored(app, 3) == 3


@pytest.mark.parametrize("header", ["Idempotency-Key", "webhook-id"])
def test_a_nul_in_a_delivery_header_is_400_on_real_gunicorn(live_server, app, project, header):
    parts = urlsplit(live_server.url)
    body = b'{"eventType":"a","userId":"u"}'
    request = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"X-API-Key: " + INGEST_HEADERS["X-API-Key"].encode() + b"\r\n" +
               header.encode() + b": a\x00b\r\nContent-Length: " + str(len(body)).encode() +
               b"\r\nConnection: close\r\n\r\n" + body)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert settle(app, 1.0) == 0
