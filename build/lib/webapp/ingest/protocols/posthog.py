"""PostHog's capture API (/batch/, /capture/, /i/v0/e/, /e/, and v1's /i/v1/analytics/events)
as /webhook events.

Each event keeps its name as sent ("$pageview", "signed up"); `distinct_id` is the user;
`uuid` is the event id (a retried batch is stored once); `properties` (with any `$set` and
`$set_once`) are the metadata; `timestamp` is moved onto the server's clock by the time the
request took to arrive (`now - sent_at`), unless `$ignore_sent_at` is set, as PostHog does.
Bodies may be gzipped (`Content-Encoding: gzip` or `deflate`, `?compression=gzip-js`, or
recognised by their first bytes) or sent as a form whose `data` field holds the JSON, base64 or
not.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from webapp.ingest.accept import IngestError, parse_json
from webapp.ingest.protocols.base import Origin, Translation, corrected, gunzip, stringify_id
from webapp.ingest.protocols.base import too_large as _too_large

MAX_BODY = 1024 * 1024  # uncompressed, as for /webhook
# An `offset` (milliseconds before the request) from 5 minutes ahead, as far as a timestamp
# may be, to ten years back: a client's queue holds events for hours or days, not longer.
OFFSET_RANGE = (-5 * 60 * 1000, 10 * 365 * 24 * 3600 * 1000)
GZIP_MAGIC = b"\x1f\x8b"
OK = {"status": 1}
CHALLENGE = "Bearer"  # besides `api_key` in the body, as on /webhook
KEY_FIELDS = ("api_key", "token")
ERRORS = {400: ("validation_error", "invalid_payload"),
          401: ("authentication_error", "invalid_api_key"),
          413: ("validation_error", "payload_too_large"),
          429: ("throttled", "rate_limited"),
          503: ("server_error", "service_unavailable")}


def read(raw: bytes, content_encoding: str, form: bool, compression: str | None) -> Any:
    """The parsed body, whatever way the SDK packed it."""
    if form:
        fields = parse_qs(raw.decode("utf-8", "replace"))
        raw = _unbase64((fields.get("data") or [""])[0])
        compression = compression or (fields.get("compression") or [None])[0]
    if compression not in (None, "", "gzip", "gzip-js", "base64"):
        raise IngestError(400, f"Unsupported compression {compression!r}: send gzip or none")
    encoding = content_encoding.strip().lower()
    if encoding not in ("", "identity", "gzip", "deflate"):
        raise IngestError(415, f"Content-Encoding {encoding!r} is not supported: send gzip, "
                          "deflate or none", reason="content_type")
    if (compression in ("gzip", "gzip-js") or encoding in ("gzip", "deflate")
            or raw[:2] == GZIP_MAGIC):
        raw = gunzip(raw, MAX_BODY)
    elif len(raw) > MAX_BODY:
        raise _too_large(MAX_BODY, 413)
    return parse_json(raw)


def _unbase64(data: str) -> bytes:
    """A form's `data`: base64 of the JSON (a form may have turned its `+` into spaces), or
    the JSON itself."""
    text = data.strip()
    if text[:1] in ("{", "["):
        return text.encode()
    try:
        return base64.b64decode(text.replace(" ", "+"), validate=True)
    except (binascii.Error, ValueError):
        raise IngestError(400, "Form field \"data\" is neither JSON nor base64") from None


def from_v1(body: Any, request_timestamp: str | None, sdk_info: str) -> Any:
    """A capture v1 batch (`POST /i/v1/analytics/events`) in the shape of a /batch/ one: the
    request's `PostHog-Request-Timestamp` is its `sent_at`, and what the SDK lifted out of the
    properties (`options.disable_skew_correction`, `session_id`, `window_id`, and `$lib`
    carried in `PostHog-Sdk-Info`) goes back in."""
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        return body
    library, _, version = sdk_info.partition("/")
    events = []
    for sent in body["batch"]:
        if isinstance(sent, dict) and isinstance(sent.get("properties", {}), dict):
            properties = dict(sent.get("properties") or {})
            options = sent.get("options")
            if isinstance(options, dict) and options.get("disable_skew_correction") is True:
                properties["$ignore_sent_at"] = True
            for name in ("session_id", "window_id"):
                if sent.get(name) is not None:
                    properties.setdefault(f"${name}", sent[name])
            if library and version:
                properties.setdefault("$lib", library)
                properties.setdefault("$lib_version", version)
            sent = {name: value for name, value in sent.items()
                    if name not in ("options", "session_id", "window_id")}
            sent["properties"] = properties
        events.append(sent)
    return {"batch": events, "sent_at": request_timestamp}


def v1_results(body: Any) -> dict:
    """The v1 answer: every event's uuid with its result (all stored, or none: a refused
    batch is a 400)."""
    events, _ = _events(body)
    return {"results": {str(sent["uuid"]): {"result": "ok"} for sent in events
                        if isinstance(sent, dict) and sent.get("uuid") is not None}}


def _events(body: Any) -> tuple[list, list]:
    """The sent events and the path of their list: a batch, an array, or one event."""
    if isinstance(body, list):
        return body, []
    if isinstance(body, dict) and isinstance(body.get("batch"), list):
        return body["batch"], ["batch"]
    return [body], []


def api_key(body: Any) -> str | None:
    """The project key: `api_key` or `token` in the body, else in the first event or its
    properties (where the browser SDK puts it)."""
    events, _ = _events(body)
    for place in ([body] if isinstance(body, dict) else []) + events[:1]:
        if not isinstance(place, dict):
            continue
        properties = place.get("properties")
        for source in (place, properties if isinstance(properties, dict) else {}):
            for name in KEY_FIELDS:
                if isinstance(source.get(name), str) and source[name]:
                    return source[name]
    return None


def translate(body: Any, received: datetime, key: str | None = None) -> Translation:
    """A capture body as events in /webhook's shape; `key` (the ingest key presented) is kept
    out of the stored properties."""
    translation = Translation()
    if not isinstance(body, (dict, list)):
        translation.refuse(-1, [], "must be an event, an array of events or a batch",
                           "object.base")
        return translation
    if isinstance(body, dict) and "batch" in body and not isinstance(body["batch"], list):
        translation.refuse(-1, ["batch"], "must be an array of events", "array.base")
        return translation
    events, container = _events(body)
    translation.container = container
    sent_at = body.get("sent_at") if isinstance(body, dict) else None
    single = isinstance(body, dict) and "batch" not in body
    for position, event in enumerate(events):
        path = [] if single else container + [position]
        if not isinstance(event, dict):
            translation.refuse(position, path, "must be of type object", "object.base")
        else:
            _event(translation, event, position, path, event.get("sent_at", sent_at),
                   received, key)
    return translation


def _event(translation: Translation, sent: dict, position: int, path: list, sent_at: Any,
           received: datetime, key: str | None) -> None:
    fields = {"eventType": "event", "userId": "distinct_id", "metadata": "properties",
              "id": "uuid", "timestamp": "timestamp"}
    event: dict = {}
    if "event" in sent:
        event["eventType"] = sent["event"]
    properties = sent.get("properties")
    properties = {} if properties is None else properties
    user = sent.get("distinct_id")
    if user in (None, "") and isinstance(properties, dict):
        user, fields["userId"] = properties.get("distinct_id"), "properties.distinct_id"
    if user in (None, ""):
        fields["userId"] = "distinct_id"
        translation.refuse(position, path + ["distinct_id"], "is required", "any.required")
    else:
        event["userId"] = stringify_id(user)
    if isinstance(properties, dict):
        properties = {name: value for name, value in properties.items()
                      if not (name in KEY_FIELDS and value == key)}
        for name in ("$set", "$set_once"):
            if sent.get(name) is not None:
                properties.setdefault(name, sent[name])
    event["metadata"] = properties
    ignore_sent_at = isinstance(properties, dict) and properties.get("$ignore_sent_at") is True
    if sent.get("timestamp") is not None:
        event["timestamp"] = (sent["timestamp"] if ignore_sent_at
                              else corrected(sent["timestamp"], sent_at, received))
    elif isinstance(offset := sent.get("offset"), int) and not isinstance(offset, bool):
        if OFFSET_RANGE[0] <= offset <= OFFSET_RANGE[1]:
            event["timestamp"] = (received - timedelta(milliseconds=offset)).isoformat()
            fields["timestamp"] = "offset"
        else:
            translation.refuse(position, path + ["offset"], f"must be between {OFFSET_RANGE[0]} "
                               f"and {OFFSET_RANGE[1]} milliseconds", "number.range")
    if sent.get("uuid") is not None:
        event["id"] = stringify_id(sent["uuid"])
    translation.add(event, Origin(position, path, fields))


def refusal(status: int, body: dict) -> tuple[int, dict]:
    """A refusal as PostHog answers it (its SDK reads `detail`)."""
    kind, code = ERRORS.get(status, ("server_error", "error"))
    return status, {**body, "type": kind, "code": code, "detail": body.get("message"),
                    "attr": None}
