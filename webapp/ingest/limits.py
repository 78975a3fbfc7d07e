"""Rate limits on Redis (flask-limiter and its `limits` strategies): per ingest key on
/webhook, in requests and in events, over a sliding window whose length is the burst allowed;
per address and account on login; 429 with Retry-After."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from contextvars import ContextVar

from flask import current_app, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from webapp import redisconn
from webapp.errors import RateLimited
from webapp.ingest.quota import Quota
from webapp.tenancy import credentials
from webapp.tenancy.credentials import presented_key, webhook_limits
from webapp.tenancy.values import limit_problem as problem
from webapp.tenancy.values import parsed

log = logging.getLogger(__name__)
fast_path_address: ContextVar[str] = ContextVar("fast_path_address")

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
    for name in ("WEBHOOK_RATE_LIMIT", "WEBHOOK_EVENT_LIMIT"):  # fail fast, not per request
        if why := problem(app.config[name]):
            raise ValueError(f"{name}={app.config[name][:60]!r} {why}")
    uri, options = redisconn.limiter_storage(app.config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", uri)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2,
                                                        "socket_timeout": 2, **options})
    # flask-limiter merges each app's RATELIMIT_STORAGE_OPTIONS into the options of its one
    # Limiter: a process that builds a second app (the suite builds many) would keep the first's
    # Sentinel options for a plain Redis URL, fail every check and, swallowing errors, limit
    # nothing. Each app starts from its own options.
    limiter._storage_options = {}
    limiter.init_app(app)
    # /webhook counts whole groups of requests and their events at once, with the same
    # storage: a sliding window (two counters, weighted), so a sender may burst up to the
    # window's amount at once and is held to the average over it
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                  **app.config["RATELIMIT_STORAGE_OPTIONS"])
    app.extensions["webhook_limiter"] = Quota(SlidingWindowCounterRateLimiter(storage))
    credentials.lookup_guard = guard_unauthenticated


def webhook_limit(app, key: str | None, project_id: int | None = None) -> tuple:
    """(strategy, requests limit, events limit) for a sender: the key's or project's own
    limits, else the configured defaults."""
    return limit_for(app, *webhook_limits(key, project_id))


def limit_for(app, requests: str | None, events: str | None) -> tuple:
    """(strategy, requests limit, events limit) of a sender's own limits (None: the
    configured default). A stored limit that is not a usable one (saved before limits were
    checked as they are now: "0 per second") counts as none, rather than fail every request."""
    return (app.extensions["webhook_limiter"],
            usable(requests) or app.config["WEBHOOK_RATE_LIMIT"],
            usable(events) or app.config["WEBHOOK_EVENT_LIMIT"])


def usable(text: str | None) -> str | None:
    if not text:
        return None
    if (why := problem(text)) is None:
        return text
    _warn_unusable(text, why)
    return None


@functools.lru_cache(maxsize=256)
def _warn_unusable(text: str, why: str) -> None:  # once per process and limit
    log.warning("stored /webhook limit %r %s: the default applies instead", text[:60], why)


def sender_key() -> str:
    """What /webhook limits on: the ingest key presented (hashed), else the project in the URL."""
    key = presented_key("X-API-Key")
    if key:
        return key_sender(key)
    slug = (request.view_args or {}).get("project_slug")
    return f"project:{slug}" if slug else "ip:" + get_remote_address()


@functools.lru_cache(maxsize=4096)
def key_sender(key: str) -> str:
    """The limit's key for an ingest key (hashed: the secret never reaches Redis)."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def take(limit: tuple, sender: str, requests: int, events: int) -> None:
    """Count `requests` webhook requests carrying `events` events of one sender against its
    limits (from the process's share when it has one, see quota.py); raises RateLimited when
    they do not fit."""
    quota, request_limits, event_limits = limit
    for text, scope, cost in ((request_limits, "pulseboard:webhook", requests),
                              (event_limits, "pulseboard:webhook-events", events)):
        for item in parsed(text):
            try:
                fits = quota.hit(item, scope, sender, cost=cost)
            except Exception as exc:  # Redis away: do not limit; the enqueue answers 503 anyway
                log.warning("rate limit not checked: %s", exc)
                return
            if not fits:
                raise refused(quota.strategy, item, scope, sender, cost)


def refused(strategy, item, scope: str, sender: str, cost: int) -> RateLimited:
    stats = strategy.get_window_stats(item, scope, sender)
    # when the window has room again for this many (a sliding window frees it gradually)
    per_second = item.amount / item.get_expiry()
    retry = max(1, math.ceil(max(cost - stats.remaining, 1) / per_second))
    unit = "" if scope == "pulseboard:webhook" else " events"
    return RateLimited(f"{item}{unit}", {
        "Retry-After": str(retry), "X-RateLimit-Limit": str(item.amount),
        "X-RateLimit-Remaining": str(max(0, stats.remaining)),
        "X-RateLimit-Reset": str(int(stats.reset_time))})


def client_address() -> str:
    """The caller's address (the real client's behind TRUSTED_PROXIES proxies: ProxyFix has
    already rewritten REMOTE_ADDR), in Flask or in the keyed fast path."""
    if has_request_context():
        return request.remote_addr or "unknown"
    return fast_path_address.get("unknown")


def guard_unauthenticated(count: int) -> None:
    """Count `count` requests of this address that brought a wrong or no key (0: only look);
    past UNAUTHENTICATED_RATE_LIMIT the address gets 429 without any database lookup. Keys
    in the key cache never come here, so this costs the ingest path nothing."""
    strategy = current_app.extensions["webhook_limiter"].strategy
    scope, address = "pulseboard:unauthenticated", client_address()
    for item in parsed(current_app.config["UNAUTHENTICATED_RATE_LIMIT"]):
        try:
            fits = strategy.hit(item, scope, address, cost=count)
        except Exception as exc:  # Redis away: the lookup itself answers, or 503
            log.warning("unauthenticated limit not checked: %s", exc)
            return
        if not fits:
            raise refused(strategy, item, scope, address, max(count, 1))


def limits_available() -> bool:
    """Whether the limits' storage answers. Logins fail closed without it: a password guesser
    must not get unlimited tries because Redis is away."""
    try:  # this app's own storage (the same Redis the login limits count in)
        return bool(current_app.extensions["webhook_limiter"].strategy.storage.check())
    except Exception:
        return False


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
