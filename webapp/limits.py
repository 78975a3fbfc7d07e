"""Rate limits on Redis (flask-limiter): per ingest key on /webhook; 429 with Retry-After."""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .auth import presented_key

limiter = Limiter(
    key_func=get_remote_address,
    # Rate-limit headers go on 429 answers only (see refusal_headers): computing them for every
    # accepted webhook would cost another Redis round trip on the hottest path.
    headers_enabled=False,
    strategy="fixed-window",
    swallow_errors=True,  # Redis away: do not limit; the queue check answers 503 anyway
    key_prefix="pulseboard:limits",
)


def init_app(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2,
                                                        "socket_timeout": 2})
    limiter.init_app(app)


def sender_key() -> str:
    """What /webhook limits on: the ingest key presented (hashed), else the project in the URL."""
    key = presented_key("X-API-Key")
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    slug = (request.view_args or {}).get("project_slug")
    return f"project:{slug}" if slug else "ip:" + get_remote_address()


def webhook_limit() -> str:
    return current_app.config["WEBHOOK_RATE_LIMIT"]


def login_account_key() -> str:
    """Login attempts counted per account as well as per address."""
    email = (request.form.get("email") or "").strip().lower()
    return "login:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def refusal_headers() -> dict[str, str]:
    """Retry-After and X-RateLimit-* for a 429, from the limit that was hit."""
    current = limiter.current_limit
    if current is None:
        return {"Retry-After": "1"}
    retry = max(1, math.ceil(current.reset_at - time.time()))
    return {"Retry-After": str(retry), "X-RateLimit-Limit": str(current.limit.amount),
            "X-RateLimit-Remaining": str(max(0, current.remaining)),
            "X-RateLimit-Reset": str(int(current.reset_at))}
