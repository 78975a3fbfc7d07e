"""Signed deliveries: verify a request's Standard Webhooks headers and refuse a replayed id."""

from __future__ import annotations

import time

from flask import request
from redis import Redis
from redis.exceptions import RedisError

from webapp.ingest.signatures import TOLERANCE_SECONDS, SignatureError, verify
from webapp.models import SigningSecret

# A webhook-id is remembered past the timestamp tolerance, after which the timestamp check
# refuses a replay on its own.
REPLAY_TTL = 2 * TOLERANCE_SECONDS + 60


def is_signed() -> bool:
    return "webhook-signature" in request.headers


def verify_request(project_id: int, raw: bytes) -> str:
    """Check the signature headers against the project's live secrets; returns the webhook-id."""
    headers = request.headers
    verify(SigningSecret.live_for(project_id), headers.get("webhook-id"),
           headers.get("webhook-timestamp"), headers.get("webhook-signature"), raw, time.time())
    return headers["webhook-id"]


def replay_key(project_id: int, msg_id: str) -> str:
    return f"pulseboard:webhook-id:{project_id}:{msg_id}"


def claim(redis: Redis, project_id: int, msg_id: str) -> None:
    """Accept a webhook-id once; a second delivery of it is refused with 409."""
    try:
        fresh = redis.set(replay_key(project_id, msg_id), "1", nx=True, ex=REPLAY_TTL)
    except RedisError:
        return  # the enqueue that follows answers 503
    if not fresh:
        raise SignatureError(409, f"webhook-id {msg_id!r} was already accepted; "
                                  "it is stored once")


def release(redis: Redis, project_id: int, msg_id: str) -> None:
    """Forget a claimed id whose delivery was then refused, so a corrected retry can pass."""
    try:
        redis.delete(replay_key(project_id, msg_id))
    except RedisError:
        pass
