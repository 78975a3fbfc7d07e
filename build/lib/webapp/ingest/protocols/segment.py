"""Segment's HTTP Tracking API (/v1/batch, /v1/track, /v1/identify, ...) as /webhook events.

Each call becomes one event: a track keeps its `event` name as sent ("Order Completed"); the
other calls are stored under their own name (`identify`, `page`, `screen`, `group`, `alias`).
The user is `userId`, else `anonymousId`; `messageId` is the event id (a retried batch is
stored once); `properties` (`traits` for identify and group) are the metadata; `timestamp` is
moved onto the server's clock by the time the request took to arrive (`receivedAt - sentAt`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from webapp.ingest.accept import parse_json
from webapp.ingest.protocols.base import Origin, Translation, corrected, gunzip, stringify_id
from webapp.ingest.protocols.base import too_large as _too_large

CALLS = ("track", "identify", "page", "screen", "group", "alias")
MAX_EVENT = 32 * 1024  # a single call, and each event of a batch
MAX_BATCH = 500 * 1024
TOO_LARGE_STATUS = 400  # Segment answers 400, not 413, to a body over its limits
OK = {"success": True}
CHALLENGE = 'Basic realm="Pulseboard"'  # the write key is the username
CODES = {400: "invalid_request", 401: "unauthorized", 429: "rate_limited",
         503: "service_unavailable"}
# Fields a call carries beside its properties or traits, kept in the metadata.
EXTRAS = {"page": ("name", "category"), "screen": ("name", "category"), "group": ("groupId",),
          "alias": ("previousId",)}
REQUIRED = {"group": "groupId", "alias": "previousId"}


def read(raw: bytes, call: str, gzipped: bool) -> Any:
    """The parsed body of a call (`batch` or one of CALLS), within Segment's size limits."""
    limit = MAX_BATCH if call == "batch" else MAX_EVENT
    if gzipped:
        raw = gunzip(raw, limit, TOO_LARGE_STATUS)
    elif len(raw) > limit:
        raise _too_large(limit, TOO_LARGE_STATUS)
    return parse_json(raw)


def write_key(body: Any, basic_username: str | None) -> str | None:
    """The write key: HTTP Basic's username (the password is empty), else `writeKey`."""
    if basic_username:
        return basic_username
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str) and body["writeKey"]:
        return body["writeKey"]
    return None


def translate(body: Any, call: str, received: datetime) -> Translation:
    """A /v1/<call> body as events in /webhook's shape."""
    translation = Translation()
    if not isinstance(body, dict):
        translation.refuse(-1, [], "must be of type object", "object.base")
    elif call != "batch":
        _message(translation, body, 0, [], call, body.get("sentAt"), received)
    elif not isinstance(batch := body.get("batch"), list):
        message = "must be an array" if "batch" in body else "is required"
        translation.refuse(-1, ["batch"], message, "array.base")
    else:
        translation.container = ["batch"]
        for position, message in enumerate(batch):
            path = ["batch", position]
            if not isinstance(message, dict):
                translation.refuse(position, path, "must be of type object", "object.base")
            elif message.get("type") not in CALLS:
                translation.refuse(position, path + ["type"],
                                   f"must be one of [{', '.join(CALLS)}]", "any.only")
            elif len(orjson.dumps(message)) > MAX_EVENT:
                translation.refuse(position, path, f"must be at most {MAX_EVENT // 1024} KB "
                                   "as JSON", "object.size")
            else:
                _message(translation, message, position, path, message["type"],
                         message.get("sentAt", body.get("sentAt")), received)
    return translation


def _message(translation: Translation, message: dict, position: int, path: list, call: str,
             sent_at: Any, received: datetime) -> None:
    fields = {"eventType": "event" if call == "track" else "type", "userId": "userId",
              "metadata": "traits" if call in ("identify", "group") else "properties",
              "id": "messageId", "timestamp": "timestamp"}
    event: dict = {}
    if call != "track":
        event["eventType"] = call
    elif "event" in message:
        event["eventType"] = message["event"]
    user = message.get("userId")
    if user is None or user == "":
        user = message.get("anonymousId")
        fields["userId"] = "anonymousId"
    if user is None or user == "":
        fields["userId"] = "userId"
        translation.refuse(position, path + ["userId"], 'or "anonymousId" is required',
                           "any.required")
    else:
        event["userId"] = stringify_id(user)
    if (required := REQUIRED.get(call)) and message.get(required) in (None, ""):
        translation.refuse(position, path + [required], "is required", "any.required")
    metadata = message.get(fields["metadata"])
    metadata = {} if metadata is None else metadata
    if isinstance(metadata, dict):
        extras = {name: message[name] for name in EXTRAS.get(call, ())
                  if message.get(name) is not None}
        metadata = {**extras, **metadata}
    event["metadata"] = metadata
    if "timestamp" not in message and "originalTimestamp" in message:
        fields["timestamp"] = "originalTimestamp"
    timestamp = message.get(fields["timestamp"])
    if timestamp is not None:
        event["timestamp"] = corrected(timestamp, sent_at, received)
    if message.get("messageId") is not None:
        event["id"] = stringify_id(message["messageId"])
    translation.add(event, Origin(position, path, fields))


def refusal(status: int, body: dict) -> tuple[int, dict]:
    """A refusal as Segment answers it (its SDK reads `code` and `message`)."""
    if status == 413:
        status = TOO_LARGE_STATUS
        body = {**body, "message": f"Request body too large: at most {MAX_BATCH // 1024} KB "
                "a batch and 32 KB an event"}
    return status, {**body, "code": CODES.get(status, "error")}
