"""Segment's and PostHog's ingest endpoints: thin routes over webapp.ingest.protocols, taking
/webhook's path (keys, rate limits, validation, ids, journal, queue, metrics) with their own
answers."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, g, request

from webapp import counters
from webapp.errors import Unauthorized
from webapp.ingest import accept
from webapp.ingest.limits import key_sender, webhook_limit
from webapp.ingest.protocols import base, posthog, segment
from webapp.tenancy import credentials
from webapp.web import answers

segment_bp = Blueprint("segment", __name__)
posthog_bp = Blueprint("posthog", __name__)
SEGMENT_CALLS = "any(" + ", ".join(("batch", *segment.CALLS)) + ")"


def ingest(protocol: str, key: str | None, missing: str, translate) -> None:
    """Accept the events `translate(now)` gives, under the project of ingest key `key`."""
    if key is None:
        raise Unauthorized(missing)
    project_id = credentials.project_for_ingest_key(key)
    config = current_app.config
    accepted = accept.accept_with(
        current_app.extensions["celery"], project_id,
        lambda now: base.prepare(translate(now), now),
        request_id=g.get("request_id"), retry_after=config["RETRY_AFTER_SECONDS"],
        sender=key_sender(key), limit=webhook_limit(current_app, key))
    counters.accepted_via(current_app.extensions["redis"], protocol, len(accepted.event_ids))


def raw_body() -> bytes:
    """The body as sent, at most MAX_CONTENT_LENGTH bytes whether sized or chunked (413 past
    it; werkzeug alone would cut a chunked body short without a word)."""
    return accept.read_body(request.environ, current_app.config["MAX_CONTENT_LENGTH"])


def answer(body: dict, status: int = 200, headers=None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


def refused(exc: Exception, adapter) -> Response:
    """The refusal /webhook would give (and count), in the adapter's shape."""
    response = answers.refusal(exc, webhook=True)
    status, body = adapter.refusal(response.status_code, response.get_json())
    headers = {name: value for name, value in response.headers.items()
               if name == "Retry-After" or name.startswith("X-RateLimit")}
    if status == 401:
        headers["WWW-Authenticate"] = adapter.CHALLENGE
    return answer(body, status, headers)


@segment_bp.post(f"/v1/<{SEGMENT_CALLS}:call>")
def segment_call(call: str):
    """Segment's HTTP Tracking API: /v1/batch, /v1/track, /v1/identify, /v1/page, ..."""
    gzipped = "gzip" in request.headers.get("Content-Encoding", "").lower()
    body = segment.read(raw_body(), call, gzipped)
    basic = request.authorization
    key = segment.write_key(body, basic.username if basic and basic.type == "basic" else None)
    ingest("segment", key or credentials.presented_key("X-API-Key"),
           "Missing write key: send it as the HTTP Basic username or as writeKey",
           lambda now: segment.translate(body, call, now))
    return answer(segment.OK)


@posthog_bp.post("/batch/", strict_slashes=False)
@posthog_bp.post("/capture/", strict_slashes=False)
@posthog_bp.post("/e/", strict_slashes=False)
@posthog_bp.post("/i/v0/e/", strict_slashes=False)
def posthog_capture():
    """PostHog's capture endpoints: one event, an array, or {"batch": [...]}."""
    body = posthog.read(raw_body(), request.headers.get("Content-Encoding", ""),
                        request.mimetype == "application/x-www-form-urlencoded",
                        request.args.get("compression"))
    key = posthog.api_key(body) or credentials.presented_key("X-API-Key")
    ingest("posthog", key, "Missing API key: send the project's ingest key as api_key",
           lambda now: posthog.translate(body, now, key))
    return answer(posthog.OK)


@posthog_bp.post("/i/v1/analytics/events", strict_slashes=False)
def posthog_capture_v1():
    """PostHog's capture v1: a batch with the key as `Authorization: Bearer`."""
    body = posthog.from_v1(
        posthog.read(raw_body(), request.headers.get("Content-Encoding", ""),
                     False, None),
        request.headers.get("PostHog-Request-Timestamp"),
        request.headers.get("PostHog-Sdk-Info", ""))
    key = credentials.presented_key("X-API-Key")
    ingest("posthog", key, "Missing API key: send the project's ingest key as "
           "Authorization: Bearer", lambda now: posthog.translate(body, now, key))
    return answer(posthog.v1_results(body))


for _blueprint, _adapter in ((segment_bp, segment), (posthog_bp, posthog)):
    for _kind in answers.REFUSALS:
        _blueprint.register_error_handler(
            _kind, lambda exc, adapter=_adapter: refused(exc, adapter))
