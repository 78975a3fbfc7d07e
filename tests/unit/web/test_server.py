"""The gunicorn worker class's handler (webapp/gunicorn_conf.py): a small answer leaves in one
send, headers and body together; a large one is written as pywsgi writes it. A real pywsgi
server on loopback."""

from __future__ import annotations

import importlib.util

import gevent
import pytest
from gevent import socket
from gevent.pywsgi import WSGIServer

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "webapp" / "gunicorn_conf.py")
gunicorn_conf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gunicorn_conf)
ONE_SEND_MAX, Handler = gunicorn_conf.ONE_SEND_MAX, gunicorn_conf.Handler


class Counting(Handler):
    sends: list[bytes] = []

    def _sendall(self, data):
        Counting.sends.append(bytes(data))
        return super()._sendall(data)

    def log_request(self):  # gunicorn's access log needs its worker's config
        pass


def app(environ, start_response):
    size = int(environ["PATH_INFO"].strip("/"))
    start_response("200 OK", [("Content-Type", "text/plain")])

    def body():  # a generator: no length known, so chunked, as a stream is
        yield b"y" * size
        yield b"end"

    return body()


@pytest.fixture
def server():
    server = WSGIServer(("127.0.0.1", 0), app, handler_class=Counting, log=None)
    server.start()
    Counting.sends = []
    yield server
    server.stop()


def get(server, size: int) -> bytes:
    client = socket.create_connection(("127.0.0.1", server.server_port))
    client.sendall(f"GET /{size} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    answer = b""
    with gevent.Timeout(5):
        while chunk := client.recv(65536):
            answer += chunk
    client.close()
    return answer


def test_a_small_answer_leaves_in_one_send(server):
    answer = get(server, 200)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"y" * 200 in answer
    first = Counting.sends[0]
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(b"y" * 200 + b"\r\n")
    assert b"\r\n\r\nc8\r\n" in first  # headers, then the first chunk's framing and data


def test_a_large_first_piece_is_written_as_pywsgi_writes_it(server):
    answer = get(server, ONE_SEND_MAX + 1)
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert body.count(b"y") == ONE_SEND_MAX + 1 and body.endswith(b"0\r\n\r\n")
    assert Counting.sends[0].endswith(b"\r\n\r\n")  # the headers alone
    assert Counting.sends[1].startswith(f"{ONE_SEND_MAX + 1:x}\r\n".encode())


def test_empty_pieces_wait_for_the_first_with_data(server):
    answer = get(server, 0)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert Counting.sends[0].endswith(b"\r\n\r\n3\r\nend\r\n")
