"""Hostile inputs, one per class of defect a hostile review found, sent to the server exactly as
`make run` starts it (private PostgreSQL and Redis, gunicorn and a Celery worker under honcho):
none may be answered with a 5xx, and each gets the answer the API promises."""

from __future__ import annotations

import base64
import csv
import gzip
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.integration.dev.test_make_run import read_banner
from webapp.dev.servers import free_port
from webapp.ingest.signatures import sign

ROOT = Path(__file__).resolve().parents[3]
EVENT = {"eventType": "probe", "userId": "hostile"}


class WrongAnswer(AssertionError):
    """The server's answer to a hostile input is not the one promised (only this failure can
    be an expected one: a server that did not start is never "expected")."""


def check(condition: bool, *detail) -> None:
    if not condition:
        raise WrongAnswer(*detail)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    port: int
    key: str
    token: str
    secret: str

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, chunked: bool = False) -> Answer:
        """One request as raw as http.client sends it (header values are not checked)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value.encode("utf-8") if isinstance(value, str)
                                     else value)
            if chunked:
                connection.putheader("Transfer-Encoding", "chunked")
            elif body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders()
            if chunked:
                for start in range(0, len(body), 64 * 1024):
                    piece = body[start:start + 64 * 1024]
                    try:
                        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        break  # refused early: read the answer
                else:
                    connection.send(b"0\r\n\r\n")
            elif body is not None:
                connection.send(body)
            response = connection.getresponse()
            return Answer(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    def post(self, path: str, event, headers: dict | None = None) -> Answer:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        return self.request("POST", path, body,
                            {"Content-Type": "application/json", **(headers or {})})

    def ingest(self, event, **headers) -> Answer:
        return self.post("/webhook", event, {"X-API-Key": self.key, **headers})

    def read(self, path: str) -> Answer:
        return self.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})

    def signed(self, event, msg_id: str = "msg_1", at: int | None = None,
               signature: str | None = None, timestamp: str | bytes | None = None) -> Answer:
        body = json.dumps(event).encode()
        at = int(time.time()) if at is None else at
        return self.post("/webhook/default", body, {
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp or str(at),
            "webhook-signature": signature or sign(self.secret, msg_id, at, body)})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`make run` (its `python -m webapp.dev.run`), in a fresh ./var of its own."""
    var, port = tmp_path_factory.mktemp("make-run") / "var", free_port()
    env = {k: v for k, v in os.environ.items() if k not in (
        "DATABASE_URL", "REDIS_URL", "WEBHOOK_API_KEY", "API_TOKEN", "SECRET_KEY")}
    env.update(PORT=str(port), PULSEBOARD_VAR=str(var), WEB_CONCURRENCY="1",
               PULSEBOARD_DOTENV=os.devnull, PYTHONUNBUFFERED="1", LOG_LEVEL="warning")
    process = subprocess.Popen([sys.executable, "-m", "webapp.dev.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        banner = read_banner(process, [], timeout=180)
        key = re.search(r"Ingest key +(\S+)", banner).group(1)
        token = re.search(r"Read token +(\S+)", banner).group(1)
        env["DATABASE_URL"] = re.search(r"Database +(postgres\S+)", banner).group(1)
        env["REDIS_URL"] = re.search(r"Redis +(redis://\S+)", banner).group(1)
        env["SECRET_KEY"] = json.loads((var / "secrets.json").read_text())["SECRET_KEY"]
        added = subprocess.run([sys.executable, "-m", "flask", "--app", "webapp.wsgi", "projects",
                                "signing-secret", "default"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
        assert added.returncode == 0, added.stderr
        secret = re.search(r"whsec_\S+", added.stdout).group(0)
        live = Server(port, key, token, secret)
        wait_until(lambda: healthy(live), timeout=60, what="a healthy install")
        yield live
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=60)


def healthy(server: Server) -> bool:
    try:
        return server.request("GET", "/health").status == 200
    except OSError:
        return False


def cursor(moment: str, row: str) -> str:
    return base64.urlsafe_b64encode(f"{moment}|{row}".encode()).decode().rstrip("=")


def deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def export_cells(server: Server) -> list[list[str]]:
    answer = server.read("/events/export?format=csv")
    check(answer.status == 200, answer.status, answer.body[:300])
    return list(csv.reader(io.StringIO(answer.body.decode())))


# Each case sends its input and returns the answers to check; `expect` is the promised status
# of the last one (None: any 4xx or 2xx the document allows, as long as it is not a 5xx).
def nul_in_idempotency_key(s):
    return [s.ingest(EVENT, **{"Idempotency-Key": "key\x00nul"})], 400


def control_character_in_webhook_id(s):
    return [s.ingest(EVENT, **{"webhook-id": "id\x01ctl"})], 400


def nul_in_query(s):
    return [s.read("/events?eventType=a%00b")], 400


def nul_in_path_segment(s):
    return [s.post("/webhook/de%00fault", EVENT)], 400  # refused before any route looks


def nul_in_form_field(s):
    page = s.request("GET", "/login")
    cookie = page.headers.get("Set-Cookie", "").split(";")[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.body).group(1).decode()
    form = f"email=a%00b%40example.test&password=x&csrf_token={token}".encode()
    return [s.request("POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})], 400


def metadata_integer_beyond_64_bits(s):
    sent = s.ingest({"eventType": "bigint", "userId": "u", "metadata": {"n": 2**64 + 1}})
    answers = [sent]
    if sent.status == 202:  # kept: it must then read back exactly, everywhere
        listing = wait_until(lambda: stored_or_failing(s, "/events?eventType=bigint"), timeout=10)
        answers += [listing, s.read("/events/export?format=json&eventType=bigint")]
        check(listing.status == 200
              and listing.json()["data"]["events"][0]["metadata"]["n"] == 2**64 + 1,
              "kept inexactly", listing.body[:300])
    return answers, None


def stored_or_failing(s, path: str) -> Answer | None:
    answer = s.read(path)
    return answer if answer.status != 200 or answer.json()["data"]["count"] else None


def thousand_digit_number_in_metadata(s):
    return [s.ingest({**EVENT, "metadata": {"n": int("9" * 1000)}})], None


def non_ascii_digits_in_limit(s):
    return [s.read("/events?limit=%C2%B2")], 400


def thousand_digit_limit(s):
    return [s.read("/events?limit=" + "1" * 1000)], 400


def thousand_digit_cursor(s):
    return [s.read("/events?cursor=" + cursor("2026-01-01T00:00:00+00:00", "9" * 1000))], 400


def non_ascii_digits_in_webhook_timestamp(s):
    return [s.signed(EVENT, timestamp=b"\xb2\xb2")], 400  # superscript twos, in Latin-1


def thousand_digit_webhook_timestamp(s):
    return [s.signed(EVENT, timestamp="9" * 1000)], 400


def metadata_nested_deeper_than_the_serializer_allows(s):
    return [s.ingest({**EVENT, "metadata": deep(300)})], 400


def timestamp_year_1_with_an_offset(s):
    return [s.ingest({**EVENT, "timestamp": "0001-01-01T00:30:00+01:00"})], 400


def timestamp_past_year_9999(s):
    return [s.ingest({**EVENT, "timestamp": "9999-12-31T23:30:00-01:00"})], 400


def non_ascii_signature(s):
    return [s.signed(EVENT, signature="v1,\u00e9\u00e9\u00e9")], 400


def malformed_base64_signature(s):
    return [s.signed(EVENT, signature="v1,!!!not-base64!!!")], 400


def signed_retry_with_a_fresh_timestamp(s):
    first = s.signed(EVENT, msg_id="msg_retry", at=int(time.time()) - 60)
    return [first, s.signed(EVENT, msg_id="msg_retry")], 202


def chunked_oversize_keyed_body(s):
    body = json.dumps([{**EVENT, "metadata": {"pad": "x" * 2000}}] * 600).encode()
    return [s.request("POST", "/webhook", body, {"Content-Type": "application/json",
                                                "X-API-Key": s.key}, chunked=True)], 413


def chunked_signed(s, body: bytes, msg_id: str) -> Answer:
    at = int(time.time())
    return s.request("POST", "/webhook/default", body, {
        "Content-Type": "application/json", "webhook-id": msg_id,
        "webhook-timestamp": str(at), "webhook-signature": sign(s.secret, msg_id, at, body)},
        chunked=True)


def chunked_signed_body(s):
    return [chunked_signed(s, json.dumps(EVENT).encode(), "msg_chunked")], 202


def chunked_oversize_signed_body(s):
    body = json.dumps([{**EVENT, "metadata": {"pad": "x" * 2000}}] * 600).encode()
    return [chunked_signed(s, body, "msg_big")], 413


def client_id_equal_to_an_earlier_delivery_id(s):
    event = {"eventType": "namespace", "userId": "u"}
    answers = [s.ingest(event, **{"Idempotency-Key": "delivery-7"}),
               s.ingest({**event, "id": "delivery-7"})]
    wait_until(lambda: stored_or_failing(s, "/events?eventType=namespace"), timeout=10)
    time.sleep(1)  # the second event, if it is stored at all, is stored by now
    listing = s.read("/events?eventType=namespace")
    check(listing.json()["data"]["count"] == 2, "a client id collided with a delivery id",
          listing.body[:300])
    return answers, 202


def formula_in_a_csv_cell(s):
    answers = [s.ingest({**EVENT, "userId": "=HYPERLINK(\"http://x\")", "id": "formula"})]
    wait_until(lambda: any(row[0] == "formula" for row in export_cells(s)), timeout=10)
    row = next(row for row in export_cells(s) if row[0] == "formula")
    check(row[2] == "'=HYPERLINK(\"http://x\")", "a formula cell must be neutralised", row)
    return answers, 202


def padded_capture(s, size: int) -> bytes:
    """A PostHog event of about `size` bytes, keyed in its body."""
    return json.dumps({"api_key": s.key, "event": "$pageview", "distinct_id": "hostile",
                       "properties": {"pad": "x" * size}}).encode()


def gzip_bomb_to_posthog(s):
    bomb = gzip.compress(padded_capture(s, 8 * 1024 * 1024))  # 8 MB unpacked, 8 KB sent
    return [s.post("/capture/", bomb, {"Content-Encoding": "gzip"})], 413


def gzip_bomb_to_segment(s):
    call = {"batch": [{"type": "track", "event": "x", "userId": "u",
                       "properties": {"pad": "x" * 8 * 1024 * 1024}}]}
    bomb = gzip.compress(json.dumps(call).encode())
    basic = base64.b64encode(f"{s.key}:".encode()).decode()
    return [s.post("/v1/batch", bomb, {"Content-Encoding": "gzip",
                                       "Authorization": f"Basic {basic}"})], 400  # Segment's


def chunked_oversize_posthog_body(s):
    return [s.request("POST", "/capture/", padded_capture(s, 1100 * 1024),
                      {"Content-Type": "application/json"}, chunked=True)], 413


def nul_in_posthog_distinct_id(s):
    return [s.post("/capture/", {"api_key": s.key, "event": "$pageview",
                                 "distinct_id": "user\x00nul"})], 400


def control_character_in_segment_event_name(s):
    return [s.post("/v1/track", {"writeKey": s.key, "userId": "u", "event": "Order\x07Done"})], 400


def known(case, defect: str):
    """A case that hits a defect being fixed in parallel: expected to fail until that fix is
    merged, and strict, so the merge that fixes it makes this test fail until the mark goes."""
    return pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=defect,
                                                      raises=WrongAnswer),
                        id=case.__name__)


def case(function):
    return pytest.param(function, id=function.__name__)


CASES = [
    case(nul_in_idempotency_key),
    case(control_character_in_webhook_id),
    case(nul_in_query),
    case(nul_in_path_segment),
    case(nul_in_form_field),
    case(metadata_integer_beyond_64_bits),
    case(thousand_digit_number_in_metadata),
    case(non_ascii_digits_in_limit),
    case(thousand_digit_limit),
    case(thousand_digit_cursor),
    case(non_ascii_digits_in_webhook_timestamp),
    case(thousand_digit_webhook_timestamp),
    case(metadata_nested_deeper_than_the_serializer_allows),
    case(timestamp_year_1_with_an_offset),
    case(timestamp_past_year_9999),
    case(non_ascii_signature),
    case(malformed_base64_signature),
    case(signed_retry_with_a_fresh_timestamp),
    case(chunked_oversize_keyed_body),
    case(chunked_signed_body),
    case(chunked_oversize_signed_body),
    case(client_id_equal_to_an_earlier_delivery_id),
    case(formula_in_a_csv_cell),
    case(gzip_bomb_to_posthog),
    case(gzip_bomb_to_segment),
    case(chunked_oversize_posthog_body),
    case(nul_in_posthog_distinct_id),
    case(control_character_in_segment_event_name),
]


def still_known(name: str) -> bool:
    """Whether the case `name` is still marked as hitting a defect not yet fixed (the fuzz test
    steers around such defects only while this says so)."""
    return any(param.id == name and param.marks for param in CASES)


@pytest.mark.slow
@pytest.mark.parametrize("send", CASES)
def test_hostile_input_gets_a_clear_answer_never_a_5xx(server, send):
    answers, expected = send(server)
    for answer in answers:
        check(answer.status < 500, answer.status, answer.body[:300])
        if answer.headers.get("Content-Type", "").startswith("application/json"):
            check(answer.json()["success"] is (answer.status < 400), answer.body[:300])
    if expected is not None:
        check(answers[-1].status == expected, answers[-1].status, answers[-1].body[:300])
