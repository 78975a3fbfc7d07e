"""A delivery attempt ends within its 5 s, all included, against receivers that answer a byte
every 2 s, answer the headers and then trickle the body, never answer, or stall the TLS
handshake; and a slow name lookup counts too."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.receiver import HANDSHAKE, STATUS, slow_receiver
from webapp.alerts import destinations

BODY, HEADERS = b'{"type": "alert.test"}', {"Content-Type": "application/json"}


@pytest.mark.parametrize("scheme, first, trickle", [
    ("http", b"", STATUS + b"x" * 100),  # a byte every 2 s from the status line on
    ("http", STATUS, b"x" * 100),  # the headers at once, then the body a byte every 2 s
    ("http", b"", b""),  # takes the connection and never answers
    ("https", b"", HANDSHAKE + bytes(64)),  # the TLS handshake a byte every 2 s
], ids=["trickle", "headers-then-trickle", "silent", "tls-trickle"])
def test_an_attempt_ends_within_its_deadline(scheme, first, trickle):
    with slow_receiver(first, trickle) as address:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="no complete answer within 5 s"):
            destinations.post(f"{scheme}://{address}/hook", BODY, HEADERS, allow_private=True)
        took = time.monotonic() - started
    assert destinations.TIMEOUT_SECONDS - 0.5 <= took <= destinations.TIMEOUT_SECONDS + 1.5, took


def test_the_name_lookup_counts_toward_the_deadline(monkeypatch):
    answered = threading.Event()
    found = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]

    def slow_name_server(*args, **kwargs):
        answered.wait(30)
        return found

    monkeypatch.setattr(socket, "getaddrinfo", slow_name_server)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match="no address for hooks.example.com within 1 s"):
            destinations.post("https://hooks.example.com/", BODY, HEADERS, allow_private=False,
                              timeout=1)
    finally:
        answered.set()
    assert time.monotonic() - started < 2


def test_a_prompt_answer_is_read_whole():
    with slow_receiver(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy") as address:
        answer = destinations.post(f"http://{address}/hook", BODY, HEADERS, allow_private=True)
    assert (answer.status, answer.body) == (503, b"busy")
