"""Ingestion: parse a webhook body, validate it, give each event its ids, enqueue one message."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from webapp.errors import IngestError
from webapp.ingest import journal, message
from webapp.ingest.groupcommit import GroupCommit, cooperative
from webapp.ingest.limits import take
from webapp.ingest.storable import delivery_problem
from webapp.ingest.validation import (
    DELIVERY_PREFIX,
    NATIVE,
    Rules,
    ValidEvent,
    validate_body,
    wide_integer_problems,
)
from webapp.models import iso

log = logging.getLogger(__name__)

STORE_PENDING = "pulseboard.store_pending"  # a wake-up: store the project's journaled batches
RECORD_INVALID = "pulseboard.record_invalid"
JSON_TYPES = ("application/json",)


@dataclass
class Accepted:
    event_ids: list[str]
    received_at: datetime
    single: bool
    payload: list[dict] = field(repr=False, default_factory=list)
    received: str = ""  # received_at as `iso` writes it

    def __post_init__(self):
        self.received = self.received or iso(self.received_at)


def uuid7(now_ms: int | None = None) -> str:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then random."""
    return uuid7s(1, now_ms)[0]


VARIANT = "89ab" * 4  # the RFC 4122 variant (binary 10xx) as the first hex digit of a group


def uuid7s(count: int, now_ms: int | None = None) -> list[str]:
    """`count` version 7 UUIDs of one millisecond, from one read of the random source."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    stamp = f"{ms & (2**48 - 1):012x}"
    head = f"{stamp[:8]}-{stamp[8:]}-7"
    digits = os.urandom(10 * count).hex()  # 20 hex digits per id: 12 + 2 + 60 random bits used
    return [f"{head}{digits[i:i + 3]}-{VARIANT[int(digits[i + 3], 16)]}{digits[i + 4:i + 7]}-"
            f"{digits[i + 7:i + 19]}" for i in range(0, 20 * count, 20)]


def read_body(environ: dict, limit: int) -> bytes:
    """The request body, at most `limit` bytes, whether sized by Content-Length or chunked;
    RequestEntityTooLarge past it. (werkzeug's own limited stream stops reading a chunked body
    at the limit and returns what it has, cut short, without a word.)

    A body of a plain Content-Length is read straight from the server's stream, which stops at
    that length (werkzeug's wrapper around it cost more than the read); anything else goes
    through werkzeug."""
    length = environ.get("CONTENT_LENGTH")
    if (length and length.isascii() and length.isdigit()
            and "HTTP_TRANSFER_ENCODING" not in environ and environ.get("wsgi.input_terminated")):
        if int(length) > limit:
            raise RequestEntityTooLarge()
        return environ["wsgi.input"].read(int(length))
    raw = get_input_stream(environ, max_content_length=limit + 1).read()
    if len(raw) > limit:
        raise RequestEntityTooLarge()
    return raw


def is_json_content_type(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or (mimetype.startswith("application/") and
                                      mimetype.endswith("+json"))


DELIVERY_HEADERS = ("Idempotency-Key", "webhook-id")


def delivery_header(headers) -> str | None:
    """The delivery id a request names (`Idempotency-Key`, else `webhook-id`); IngestError 400
    when either header holds what cannot be one."""
    errors = []
    for name in DELIVERY_HEADERS:
        if (value := headers.get(name)) and (message := delivery_problem(name, value)):
            errors.append({"path": ["headers", name], "message": message,
                           "type": "header.invalid"})
    if errors:
        raise IngestError(400, "Validation failed", errors=errors)
    return headers.get(DELIVERY_HEADERS[0]) or headers.get(DELIVERY_HEADERS[1])


def delivery_id(key: str) -> str:
    """An Idempotency-Key or webhook-id as the base of event ids (hashed when long), in a
    namespace of its own: client ids may not start with DELIVERY_PREFIX, so a client id equal
    to a delivery id is a different event. (Ids derived before the prefix stay as stored.)"""
    if len(key) > 64:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:56]
    return DELIVERY_PREFIX + key


def event_ids(events: list[ValidEvent], delivery: str | None, now_ms: int) -> list[str]:
    """The client's id when given; else one derived from the delivery id; else a new UUIDv7."""
    if delivery is not None:
        if len(events) == 1:
            return [events[0].client_id or delivery]
        return [event.client_id or f"{delivery}#{index}" for index, event in enumerate(events)]
    fresh = iter(uuid7s(sum(event.client_id is None for event in events), now_ms))
    return [next(fresh) if event.client_id is None else event.client_id for event in events]


def parse_json(raw: bytes):
    """A JSON body; integers outside 64 bits are refused, not rounded. Raises IngestError."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise IngestError(400, f"Malformed JSON: {exc}") from None
    if errors := wide_integer_problems(raw):  # orjson would have read them as rounded floats
        raise IngestError(400, "Validation failed", errors=errors,
                          invalid=len(body) if isinstance(body, list) else 1)
    return body


def prepare(raw: bytes, now: datetime, delivery: str | None = None) -> Accepted:
    """Everything but the enqueue: parse, validate, assign ids. Raises IngestError."""
    return prepare_body(parse_json(raw), now, delivery)


def prepare_body(body, now: datetime, delivery: str | None = None,
                 rules: Rules = NATIVE) -> Accepted:
    """A parsed body of events in /webhook's shape (one event or an array): validated under
    `rules`, given their ids, ready to enqueue. Raises IngestError."""
    events, errors, invalid = validate_body(body, now, rules)
    if errors:
        raise IngestError(400, "Validation failed", errors=errors, invalid=invalid)
    ids = event_ids(events, delivery and delivery_id(delivery), int(now.timestamp() * 1000))
    received = iso(now)
    payload = [
        {
            "id": event_id,
            "type": event.event_type,
            "user": event.user_id,
            "ts": iso(event.timestamp) if event.timestamp else received,
            "meta": event.metadata,
            "rcv": received,
        }
        for event_id, event in zip(ids, events, strict=True)
    ]
    if delivery is not None or any(event.client_id is not None for event in events):
        for item, event in zip(payload, events, strict=True):
            if delivery is not None or event.client_id is not None:
                # an id the sender chose may repeat; stamped on receipt (2), on another day
                item["d"] = 1 if event.timestamp else 2
    return Accepted(ids, now, not isinstance(body, list), payload, received)


QUEUE_ERRORS = (KombuError, OperationalError, RedisError, OSError)
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def publish(celery, project_id: int, payload: list[dict], request_ids: list) -> None:
    """Journal the batch and, unless one is waiting, queue a wake-up for its project, in one
    Redis round trip; returns only once Redis has the batch. Raises IngestError 503."""
    batch_id = journal.new_batch_id()
    try:
        journal.write(celery.pulseboard_redis, batch_id, project_id, payload,
                      [r for r in request_ids if r], message=wake_message(celery, project_id,
                                                                          batch_id, gather=True))
    except QUEUE_ERRORS as exc:
        log.warning("queue unavailable: %s", exc)
        raise IngestError(503, "Queue unavailable, retry later") from None


def wake_message(celery, project_id: int, task_id: str,
                 gather: bool = False) -> tuple[str, bytes]:
    """(queue, message) of a task that stores the project's pending batches. With `gather`
    (a wake-up for newly written batches), it says when it was written, and the worker lets
    the next batches gather before taking them; without (batches remaining after a take,
    batches the sweeper found), the worker takes them at once."""
    found = _routes.get(id(celery))
    if found is None:
        found = _routes[id(celery)] = message.Route.of(celery)
    headers = {"project": project_id}
    if gather:
        headers["sent"] = round(time.time(), 3)
    return found.queue, message.task_message(found, STORE_PENDING, [project_id], task_id,
                                             headers)


_routes: dict[int, message.Route] = {}


_groups: dict[int, GroupCommit] = {}
GROUP_MS = 10  # the longest a group waits for the write ahead of it (see groupcommit.py)


def enqueue(celery, project_id: int, accepted: Accepted, request_id: str | None,
            retry_after: int, sender: str = "", limit: tuple | None = None) -> None:
    """Put the events in the broker, sharing a message (and one rate-limit check) with
    concurrent requests of the same sender under gevent; returns once Redis has them."""

    def admit_and_publish(key, payload, request_ids):
        project, sender, limits = key  # the group's: every request in it has the same
        if limits:
            take(limits, sender, len(request_ids), len(payload))
        publish(celery, project, payload, request_ids)

    key = (project_id, sender, limit)
    try:
        if cooperative():
            group = _groups.get(id(celery))
            if group is None:
                window = getattr(celery, "pulseboard_group_ms", GROUP_MS) / 1000
                group = _groups[id(celery)] = GroupCommit(admit_and_publish, max_window=window)
            group.submit(key, accepted.payload, request_id)
        else:
            admit_and_publish(key, accepted.payload, [request_id])
    except IngestError as exc:
        exc.retry_after = retry_after
        raise


def record_invalid(celery, project_id: int, count: int, now: datetime) -> None:
    """Count rejected events for the dashboard; best effort, never fails the request."""
    if count <= 0:
        return
    try:
        celery.send_task(RECORD_INVALID, args=[project_id, count, iso(now)],
                         retry=True, retry_policy=PUBLISH_RETRY)
    except QUEUE_ERRORS as exc:
        log.warning("could not count %d invalid events: %s", count, exc)


def accept(celery, project_id: int, raw: bytes, delivery: str | None = None,
           request_id: str | None = None, retry_after: int = 5, sender: str = "",
           limit: tuple | None = None) -> Accepted:
    """The whole ingest step for one /webhook body."""
    return accept_with(celery, project_id, lambda now: prepare(raw, now, delivery),
                       request_id, retry_after, sender, limit)


def accept_with(celery, project_id: int, read, request_id: str | None = None,
                retry_after: int = 5, sender: str = "", limit: tuple | None = None) -> Accepted:
    """The ingest step shared by every way in: `read(now)` returns the prepared events (from
    /webhook's JSON, or a protocol adapter's translation ending in `prepare_body`), or raises
    IngestError, whose invalid events are counted; then they are enqueued."""
    now = datetime.now(UTC)
    try:
        accepted = read(now)
    except IngestError as exc:
        record_invalid(celery, project_id, exc.invalid, now)
        raise
    enqueue(celery, project_id, accepted, request_id, retry_after, sender, limit)
    return accepted
