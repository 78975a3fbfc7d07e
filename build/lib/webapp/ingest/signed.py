"""Signed deliveries: verify a request's Standard Webhooks headers; answer a retry as before."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from flask import request
from redis import Redis
from redis.exceptions import RedisError

from webapp.ingest.signatures import SignatureError, verify
from webapp.tenancy import credentials

# How long the answer to a signed delivery is remembered. Standard Webhooks senders retry any
# non-2xx for days, re-signing with a fresh timestamp: within this time a retry gets the very
# answer the first delivery got and queues nothing; after it, its events are queued again and
# stored once all the same (their ids derive from the webhook-id, or are the client's own).
ANSWER_TTL = 3600


def is_signed() -> bool:
    return "webhook-signature" in request.headers


def verify_request(project_id: int, raw: bytes) -> str:
    """Check the signature headers against the project's live secrets; returns the webhook-id.
    A signature that none of the remembered secrets made is checked once more against the
    secrets looked up again (bounded: see credentials.signing_secrets_after_miss), so that a secret
    added a moment ago verifies at once in every web process."""
    headers = request.headers
    signed = (headers.get("webhook-id"), headers.get("webhook-timestamp"),
              headers.get("webhook-signature"), raw, time.time())
    secrets = live_secrets(project_id)
    try:
        verify(secrets, *signed)
    except SignatureError as exc:
        if not exc.unmatched:
            raise
        fresh = credentials.signing_secrets_after_miss(project_id)
        if fresh == secrets:
            raise
        verify(fresh, *signed)
    return headers["webhook-id"]


def live_secrets(project_id: int) -> list[str]:
    """Raises DatabaseUnavailable (503) when PostgreSQL is away and they are not remembered."""
    return credentials.signing_secrets(project_id)


def answer_key(project_id: int, msg_id: str) -> str:
    return f"pulseboard:webhook-id:{project_id}:{msg_id}"


def earlier_receipt(redis: Redis, project_id: int, msg_id: str, raw: bytes) -> datetime | None:
    """When this webhook-id was accepted before with this very body (a sender's retry), else
    None. The same id with another body is refused with 409."""
    try:
        kept = redis.get(answer_key(project_id, msg_id))
    except RedisError:
        return None  # the enqueue that follows answers 503
    digest, _, received_ms = (kept or b"").decode().partition(" ")
    if not received_ms.isascii() or not received_ms.isdigit():
        return None  # not remembered (or marked by an older version: queued, stored once)
    if digest != _digest(raw):
        raise SignatureError(409, f"webhook-id {msg_id!r} was already accepted with another body")
    return datetime.fromtimestamp(int(received_ms) / 1000, UTC)


def remember(redis: Redis, project_id: int, msg_id: str, raw: bytes, received: datetime) -> None:
    """Keep what a retry of this accepted delivery must be answered with."""
    value = f"{_digest(raw)} {int(received.timestamp() * 1000)}"
    try:
        redis.set(answer_key(project_id, msg_id), value, nx=True, ex=ANSWER_TTL)
    except RedisError:
        pass  # a retry is then queued again, and stored once all the same


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
