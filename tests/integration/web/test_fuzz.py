"""schemathesis fuzzes the live API (gunicorn and a Celery worker) against its OpenAPI document:
valid and invalid requests to every operation, then linked sequences (send, then list; page
on). Every answer must be documented and never a 5xx; afterwards the queue drains and every
event acknowledged with 202 is stored."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, assume, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.conftest import reset, start_gunicorn, stop_process
from tests.helpers import INGEST_HEADERS, INGEST_KEY, READ_HEADERS, READ_TOKEN, drain, sql_scalar
from tests.integration.dev.test_hostile_inputs import still_known
from webapp.ingest.signatures import sign
from webapp.reads.events import BadQuery, decode_cursor
from webapp.web import openapi

EXAMPLES = 300  # per operation and generation mode (fewer where the inputs run out)
MIN_REQUESTS = 2000
SIGNED = "/webhook/{project}"
AUTH = {"/webhook": INGEST_HEADERS, "/events": READ_HEADERS, "/events/stats": READ_HEADERS,
        "/events/export": READ_HEADERS}

DOCUMENT = schemathesis.openapi.from_path(openapi.PATH)
DOCUMENT.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                  max_examples=EXAMPLES)


def event_times():
    """Valid event timestamps: RFC 3339 date-times from 2000 to 2025, in various offsets. The
    document cannot say "not more than 5 minutes ahead of the server's clock"."""
    offsets = st.sampled_from(["Z", "+00:00", "+05:30", "-08:00", "+14:00", "-12:00"])
    moments = st.datetimes(min_value=datetime(2000, 1, 2),
                           max_value=datetime(2026, 1, 1))
    return st.builds(lambda m, o: m.isoformat(timespec="milliseconds") + o, moments, offsets)


schemathesis.openapi.format("date-time", event_times())


INT64 = range(-2**63, 2**63)


def within_64_bits(value) -> bool:
    if isinstance(value, dict):
        return all(within_64_bits(item) for item in value.values())
    if isinstance(value, list):
        return all(within_64_bits(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value in INT64
    if isinstance(value, float):
        return abs(value) < 2**63
    return True


# Defects being fixed in parallel, steered around while the hostile-input corpus still marks
# them as expected failures (a fix flips its case there, and with it switches the filter here off)
BIG_INTEGERS_BREAK_READS = still_known("metadata_integer_beyond_64_bits")
NUL_IN_QUERY_IS_500 = still_known("nul_in_query")


@DOCUMENT.hook
def filter_body(context, body):
    """KNOWN DEFECT (issue 11, "Integers outside 64 bits in metadata are kept exactly or refused
    with 400"): such a number is accepted and stored, and then every listing or export that
    includes its event answers 500, so one generated body would poison the rest of the run."""
    return not BIG_INTEGERS_BREAK_READS or within_64_bits(body)


@DOCUMENT.hook
def filter_query(context, query):
    """Two kinds of query are not sent:
    - KNOWN DEFECT (issue 11, "NUL bytes in any query string ... answer 400/404"): a NUL in a
      query value answers 500.
    - a `cursor` this API did not return: it is opaque, so no schema can say which strings are
      valid; a made-up one is a 400 (tests/integration/reads cover that), and real ones come
      from the NextPage link in the linked sequences."""
    values = [str(value) for value in (query or {}).values()]
    if NUL_IN_QUERY_IS_500 and any("\x00" in value for value in values):
        return False
    cursor = (query or {}).get("cursor")
    if cursor:
        try:
            decode_cursor(str(cursor))
        except BadQuery:
            return False
    return True


@DOCUMENT.auth(refresh_interval=None)  # by operation: nothing to cache
class Credentials:
    """The project's ingest key or read token, by operation (schemathesis's auth checks then
    also send each operation without them, and with wrong ones)."""

    def get(self, case, context):
        return AUTH.get(case.operation.path)

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), **data}


def sendable(value) -> bool:
    """A header value HTTP/1.1 can carry (Latin-1, no line break) and requests will send (no
    leading whitespace)."""
    text = str(value)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not re.search(r"[\r\n]|^\s", text)


@dataclass
class Target:
    """The server under test, and what the fuzzing did to it."""

    url: str
    secret: str
    session: requests.Session = field(default_factory=requests.Session)
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    by_operation: dict[str, int] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)

    def prepare(self, case) -> dict:
        """The request to send: the project's credentials, and for a valid signed delivery to
        the project, a signature of the body as sent."""
        path = case.operation.path
        signed = path == SIGNED and not case.meta.generation.mode.is_negative
        if signed:
            case.path_parameters["project"] = "default"
        kwargs = case.as_transport_kwargs(base_url=self.url)
        assume(all(sendable(value) for value in kwargs["headers"].values()))
        if signed:  # the signature covers the body exactly as sent
            if "json" in kwargs:
                kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
            body, headers, now = kwargs.get("data") or b"", kwargs["headers"], int(time.time())
            headers.setdefault("webhook-id", "msg_fuzz")
            headers["webhook-timestamp"] = str(now)
            headers["webhook-signature"] = sign(self.secret, headers["webhook-id"], now, body)
        return kwargs

    def record(self, case, response) -> None:
        self.requests += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        label = f"{case.operation.label} {response.status_code}"
        self.by_operation[label] = self.by_operation.get(label, 0) + 1
        if response.status_code == 202:
            data = response.json()["data"]
            self.accepted.update(data.get("eventIds") or [data["eventId"]])

    def send(self, case) -> None:
        kwargs = self.prepare(case)
        response = self.session.request(**kwargs, timeout=30)
        self.record(case, response)
        case.validate_response(response, transport_kwargs={"base_url": self.url})


@pytest.fixture(scope="module")
def target(services, app, redis, _worker_handle):
    from webapp.tenancy.tenants import add_signing_secret, ensure_default_project

    reset(app, redis)
    with app.app_context():
        project = ensure_default_project(INGEST_KEY, READ_TOKEN)
        secret = add_signing_secret(project, "fuzz").secret
    _worker_handle.ensure_running()
    server = start_gunicorn(services)
    yield Target(server.url, secret)
    stop_process(server.process)


# No shrinking: a failure is reported as found (shrinking replays requests against a server
# whose state has moved on, which hypothesis then calls flaky).
FUZZ_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck),
                         phases=[Phase.explicit, Phase.generate], database=None)


@DOCUMENT.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_as_documented_and_never_5xx(case, target):
    target.send(case)


def test_linked_sequences_answer_as_documented(target):
    class Sequences(DOCUMENT.as_state_machine()):
        def call(self, case, **kwargs):
            request = target.prepare(case)
            response = target.session.request(**request, timeout=30)
            target.record(case, response)
            return response

    Sequences.run(settings=settings(FUZZ_SETTINGS, max_examples=40, stateful_step_count=5))


def test_afterwards_the_queue_drains_and_every_accepted_event_is_stored(target, app, redis,
                                                                         capsys):
    if target.requests == 0:
        pytest.skip("run it with the fuzz tests above: it checks what they left behind")
    with capsys.disabled():
        print(f"\nschemathesis sent {target.requests} requests: "
              f"{dict(sorted(target.statuses.items()))}; {len(target.accepted)} events accepted\n"
              f"{dict(sorted(target.by_operation.items()))}")
    assert target.requests >= MIN_REQUESTS
    assert not any(status >= 500 for status in target.statuses)
    drain(redis, timeout=60)
    time.sleep(1)  # a message requeued after a failure would be back by now
    drain(redis, timeout=5)
    stored = set()
    ids = sorted(target.accepted)
    for start in range(0, len(ids), 1000):
        stored.update(sql_scalar(app, "SELECT array_agg(event_id) FROM event "
                                 "WHERE event_id = ANY(%s)", (ids[start:start + 1000],)) or [])
    assert set(ids) - stored == set(), "acknowledged with 202 but not stored"
    assert sql_scalar(app, "SELECT count(*) FROM dead_letter") == 0
    resent = redis.hget("pulseboard:metrics", "journal_resent")
    assert resent in (None, b"0"), "a batch had to be published again"
