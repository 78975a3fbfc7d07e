"""Rate limits on Redis (flask-limiter and its `limits` strategy): per ingest key on /webhook,
per address and account on login; 429 with Retry-After."""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from webapp import redisconn
from webapp.tenancy.auth import presented_key

log = logging.getLogger(__name__)

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
    uri, options = redisconn.limiter_storage(app.config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", uri)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2,
                                                        "socket_timeout": 2, **options})
    limiter.init_app(app)
    # /webhook counts whole groups of requests at once with the same engine and storage
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                  **app.config["RATELIMIT_STORAGE_OPTIONS"])
    app.extensions["webhook_limiter"] = FixedWindowRateLimiter(storage)


def sender_key() -> str:
    """What /webhook limits on: the ingest key presented (hashed), else the project in the URL."""
    key = presented_key("X-API-Key")
    if key:
        return key_sender(key)
    slug = (request.view_args or {}).get("project_slug")
    return f"project:{slug}" if slug else "ip:" + get_remote_address()


def key_sender(key: str) -> str:
    """The limit's key for an ingest key (hashed: the secret never reaches Redis)."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]


class RateLimited(Exception):
    """A sender went over its /webhook limit; carries the 429's headers."""

    def __init__(self, limit: str, headers: dict[str, str]):
        super().__init__(f"Rate limit exceeded: {limit}")
        self.message = str(self)
        self.headers = headers


def take(strategy, sender: str, requests: int, limit_text: str) -> None:
    """Count `requests` webhook requests of one sender against its limit (one Redis round trip
    for a whole group of requests); raises RateLimited when they do not fit."""
    for item in parse_many(limit_text):
        try:
            fits = strategy.hit(item, "pulseboard:webhook", sender, cost=requests)
        except Exception as exc:  # Redis away: do not limit; the enqueue answers 503 anyway
            log.warning("rate limit not checked: %s", exc)
            return
        if not fits:
            stats = strategy.get_window_stats(item, "pulseboard:webhook", sender)
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimited(str(item), {
                "Retry-After": str(retry), "X-RateLimit-Limit": str(item.amount),
                "X-RateLimit-Remaining": str(max(0, stats.remaining)),
                "X-RateLimit-Reset": str(int(stats.reset_time))})


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
