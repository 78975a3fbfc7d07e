"""Event validation: every problem at once, in the reference's (Joi's) error shape."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from webapp.ingest.storable import depth, in_utc_range, storable, wide_integer
from webapp.models import MAX_FUTURE

EVENT_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]+")
DATETIME_PREFIX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
ALLOWED_FIELDS = ("eventType", "userId", "timestamp", "metadata", "id")
ALLOWED_KEYS = frozenset(ALLOWED_FIELDS)
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 64  # objects and arrays within one another, the metadata object included
MAX_BATCH = 1000
DELIVERY_PREFIX = "delivery:"  # ids derived from Idempotency-Key or webhook-id; not a client's


def wide_integer_problems(raw: bytes) -> list[dict]:
    """Integers outside 64 bits, which orjson would read as rounded floats: refused rather
    than stored wrong."""
    if (number := wide_integer(raw)) is None:
        return []
    shown = number if len(number) <= 40 else number[:37] + "..."
    return [problem([], "value", f"holds the integer {shown}, outside 64 bits; send it as a "
                    "string", "number.unsafe")]


@dataclass(frozen=True)
class Rules:
    """What an event's name and metadata may be: /webhook's own rule, or the wider one of the
    Segment and PostHog adapters, whose SDKs send names like "Order Completed" or "$pageview"."""

    type_max: int
    type_pattern: re.Pattern
    type_message: str
    metadata_max: int


NATIVE = Rules(64, EVENT_TYPE_PATTERN, "may contain only letters, digits and _ . : -",
               MAX_METADATA_BYTES)
# Any printable text (spaces, $, punctuation, any script) up to 200 characters; properties up
# to 32 KB, Segment's limit for a whole event.
SDK = Rules(200, re.compile(r"[^\x00-\x1f\x7f]+"), "must not contain control characters",
            32 * 1024)


class ValidEvent(NamedTuple):
    """One event that passed validation, with its timestamp parsed (None: the time received)."""

    event_type: str
    user_id: str
    timestamp: datetime | None
    metadata: dict
    client_id: str | None


def problem(path: list, label: str, message: str, kind: str) -> dict:
    return {"path": path, "message": f'"{label}" {message}', "type": kind}


def _label(prefix: list, name: str | None = None) -> str:
    parts = [f"[{p}]" for p in prefix]
    if name is not None:
        parts.append(("." if parts else "") + name)
    return "".join(parts) or "value"


def _text_problems(value: Any, path: list, label: str, max_len: int) -> list[dict]:
    if not isinstance(value, str):
        return [problem(path, label, "must be a string", "string.base")]
    if value == "":
        return [problem(path, label, "is not allowed to be empty", "string.empty")]
    if len(value) > max_len:
        return [problem(path, label, f"length must be less than or equal to {max_len} "
                        "characters long", "string.max")]
    if not storable(value):
        return [problem(path, label, "must not contain control characters or unpaired "
                        "surrogates", "string.invalid")]
    return []


def parse_timestamp(value: str) -> datetime | None:
    """An ISO-8601 date and time; no offset means UTC. None when it is not one."""
    if not DATETIME_PREFIX.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        # in UTC at once: 0001-01-01T00:00:00+01:00 has no UTC time, and is no time at all
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _timestamp_problems(value: Any, path: list, label: str, now: datetime):
    if not isinstance(value, str) or (moment := parse_timestamp(value)) is None:
        return None, [problem(path, label, "must be in ISO 8601 date format with a date and a time",
                              "date.format")]
    if not in_utc_range(moment):
        return None, [problem(path, label, "must be between years 1 and 9999 in UTC",
                              "date.range")]
    if moment > now + MAX_FUTURE:
        return None, [problem(path, label, "must not be more than 5 minutes in the future",
                              "date.max")]
    return moment, []


def _metadata_problems(value: Any, path: list, label: str, max_bytes: int) -> list[dict]:
    if not isinstance(value, dict):
        return [problem(path, label, "must be of type object", "object.base")]
    found = _metadata_issue(value, max_bytes)
    return [problem(path, label, *found)] if found else []


def _metadata_issue(value: dict, max_bytes: int = MAX_METADATA_BYTES) -> tuple[str, str] | None:
    """What is wrong with a metadata object, as (message, type); None when nothing is."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:  # past orjson's own nesting limit
        encoded = None
    if encoded is None or (encoded.count(b"{") + encoded.count(b"[") > MAX_METADATA_DEPTH
                           and depth(value) > MAX_METADATA_DEPTH):
        return f"must be nested at most {MAX_METADATA_DEPTH} levels deep", "object.depth"
    if len(encoded) > max_bytes:
        return f"must be at most {max_bytes} bytes as JSON", "object.size"
    if b"\\u0000" in encoded:
        return "must not contain NUL characters", "string.invalid"
    return None


def _plain_text(value: Any, max_len: int) -> bool:
    """A string `_text_problems` finds nothing wrong with (decided without building messages)."""
    return (type(value) is str and 0 < len(value) <= max_len
            and ((value.isascii() and value.isprintable()) or storable(value)))


def accepted_as_is(item: Any, now: datetime, rules: Rules = NATIVE) -> ValidEvent | None:
    """The event when it is valid, decided quickly; None when `checked_event` must look.

    Nearly every event is valid, and the full check builds a label and a path for each field
    whether or not it finds a problem. This accepts only what `checked_event` accepts."""
    if type(item) is not dict or not item.keys() <= ALLOWED_KEYS:
        return None
    event_type, user_id = item.get("eventType"), item.get("userId")
    if (type(event_type) is not str or not 0 < len(event_type) <= rules.type_max
            or not rules.type_pattern.fullmatch(event_type)  # no NUL in either rule
            or not (event_type.isascii() or storable(event_type))
            or not _plain_text(user_id, 128)):
        return None
    moment = None
    if "timestamp" in item:
        value = item["timestamp"]
        if (type(value) is not str or (moment := parse_timestamp(value)) is None
                or not in_utc_range(moment) or moment > now + MAX_FUTURE):
            return None
    metadata = item.get("metadata", {})
    if "metadata" in item:
        if type(metadata) is not dict or _metadata_issue(metadata, rules.metadata_max):
            return None
    client_id = None
    if "id" in item and (not _plain_text(client_id := item["id"], 100)
                         or client_id.startswith(DELIVERY_PREFIX)):
        return None
    return ValidEvent(event_type, user_id, moment, metadata, client_id)


def validate_event(item: Any, prefix: list, now: datetime,
                   rules: Rules = NATIVE) -> tuple[ValidEvent | None, list[dict]]:
    """One event object: the event when valid, else every problem found in it."""
    if (event := accepted_as_is(item, now, rules)) is not None:
        return event, []
    return checked_event(item, prefix, now, rules)


def checked_event(item: Any, prefix: list, now: datetime,
                  rules: Rules = NATIVE) -> tuple[ValidEvent | None, list[dict]]:
    """The full check of one event, field by field, collecting every problem."""
    if not isinstance(item, dict):
        return None, [problem(prefix, _label(prefix), "must be of type object", "object.base")]
    errors: list[dict] = []
    for name in ("eventType", "userId"):
        if name not in item:
            errors.append(problem(prefix + [name], _label(prefix, name), "is required",
                                  "any.required"))
    if "eventType" in item:
        path, label = prefix + ["eventType"], _label(prefix, "eventType")
        found = _text_problems(item["eventType"], path, label, rules.type_max)
        if not found and not rules.type_pattern.fullmatch(item["eventType"]):
            found = [problem(path, label, rules.type_message, "string.pattern.base")]
        errors += found
    if "userId" in item:
        errors += _text_problems(item["userId"], prefix + ["userId"], _label(prefix, "userId"), 128)
    moment = None
    if "timestamp" in item:
        moment, found = _timestamp_problems(item["timestamp"], prefix + ["timestamp"],
                                            _label(prefix, "timestamp"), now)
        errors += found
    if "metadata" in item:
        errors += _metadata_problems(item["metadata"], prefix + ["metadata"],
                                     _label(prefix, "metadata"), rules.metadata_max)
    if "id" in item:
        path, label = prefix + ["id"], _label(prefix, "id")
        found = _text_problems(item["id"], path, label, 100)
        if not found and item["id"].startswith(DELIVERY_PREFIX):
            found = [problem(path, label, f"must not start with {DELIVERY_PREFIX!r}, which marks "
                             "ids derived from Idempotency-Key or webhook-id", "string.reserved")]
        errors += found
    for name in item:
        if name not in ALLOWED_FIELDS:
            errors.append(problem(prefix + [name], _label(prefix, name), "is not allowed",
                                  "object.unknown"))
    if errors:
        return None, errors
    event = ValidEvent(item["eventType"], item["userId"], moment, item.get("metadata", {}),
                       item.get("id"))
    return event, []


def validate_body(body: Any, now: datetime,
                  rules: Rules = NATIVE) -> tuple[list[ValidEvent], list[dict], int]:
    """A parsed body (one event or an array): (events, problems, number of invalid events)."""
    if isinstance(body, list):
        if not body:
            return [], [problem([], "value", "must contain at least 1 items", "array.min")], 0
        if len(body) > MAX_BATCH:
            return [], [problem([], "value", f"must contain less than or equal to {MAX_BATCH} "
                                "items", "array.max")], len(body)
        events, errors, invalid = [], [], 0
        for index, item in enumerate(body):
            event, found = validate_event(item, [index], now, rules)
            if found:
                invalid += 1
                errors += found
            else:
                events.append(event)
        return events, errors, invalid
    event, errors = validate_event(body, [], now, rules)
    return ([event] if event else []), errors, (1 if errors else 0)
