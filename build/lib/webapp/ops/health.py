"""Health of the install: database, Redis, live workers of both kinds, and a store keeping up."""

from __future__ import annotations

import time

from redis import Redis

from webapp.db import database
from webapp.ingest import journal
from webapp.ingest.queue import HEARTBEAT_KEY, JOBS_HEARTBEAT_KEY


def check_database() -> str | None:
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1")
    except Exception as exc:  # any failure to reach it is the answer
        return f"unreachable: {type(exc).__name__}"
    return None


def check_redis(redis: Redis) -> str | None:
    try:
        redis.ping()
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return None


def check_worker(redis: Redis, max_age: int, key: str = HEARTBEAT_KEY,
                 kind: str = "worker") -> str | None:
    try:
        beat = redis.get(key)
    except Exception:
        return "unknown: Redis unreachable"
    if beat is None:
        return f"no {kind} heartbeat"
    age = time.time() - float(beat)
    return None if age <= max_age else f"last heartbeat {age:.0f}s ago"


def store_lag(redis: Redis) -> float | None:
    """Seconds the oldest batch answered 202 has waited to be stored; None without Redis."""
    try:
        return journal.oldest_age(redis)
    except Exception:
        return None


def check_store(lag: float | None, limit: float) -> str | None:
    if lag is None:
        return "unknown: Redis unreachable"
    if lag <= limit:
        return None
    return f"behind: the oldest batch has waited {lag:.0f}s to be stored (limit {limit:g}s)"


def report(redis: Redis, max_age: int,
           lag_limit: float = 60) -> tuple[bool, dict[str, str], float | None]:
    """Whether all is well, each check's answer ("ok" or the problem), and the store's lag."""
    lag = store_lag(redis)
    problems = {
        "database": check_database(),
        "redis": check_redis(redis),
        "worker": check_worker(redis, max_age),
        "jobs": check_worker(redis, max_age, JOBS_HEARTBEAT_KEY, "jobs worker"),
        "store": check_store(lag, lag_limit),
    }
    checks = {name: problem or "ok" for name, problem in problems.items()}
    return all(problem is None for problem in problems.values()), checks, lag
