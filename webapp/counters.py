"""Operational counters, kept in one Redis hash so every web and worker process adds to the same
numbers; below every stage (ingest, the store, the worker count here; webapp/ops/metrics.py
renders them at /metrics)."""

from __future__ import annotations

import time

from redis import Redis

KEY = "pulseboard:metrics"  # hash of counters and last values
REASONS = ("validation", "malformed_json", "unauthorized", "too_large", "content_type",
           "rate_limited", "queue_unavailable", "signature")
PROTOCOLS = ("segment", "posthog")
# why a saved trend was not computed for its alert rules (webapp/alerts/trends.py)
TREND_FAILURES = ("too_slow", "invalid", "error")


def accepted_via(redis: Redis, protocol: str, events: int) -> None:
    """Events accepted through a protocol adapter (also counted in `accepted`)."""
    _safe(lambda: redis.hincrby(KEY, f"accepted:{protocol}", events))


def rejected(redis: Redis, reason: str, events: int = 1) -> None:
    _safe(lambda: redis.hincrby(KEY, f"rejected:{reason}", events))


def stored(redis: Redis, events: int, lag_seconds: float) -> None:
    """Count stored events (`redis` may be a pipeline, which the caller executes)."""
    redis.hincrby(KEY, "stored", events)
    redis.hset(KEY, mapping={"lag": f"{lag_seconds:.4f}", "lag_at": f"{time.time():.0f}"})


def redelivered(redis: Redis) -> None:
    """A worker took a task message the broker had delivered before."""
    _safe(lambda: redis.hincrby(KEY, "redelivered", 1))


def alert_trend_failed(redis: Redis, reason: str) -> None:
    """A check could not compute a saved trend for its alert rules (one of TREND_FAILURES)."""
    _safe(lambda: redis.hincrby(KEY, f"alert_trend_failed:{reason}", 1))


def _safe(call) -> None:
    try:
        call()
    except Exception:  # metrics never fail a request
        pass
