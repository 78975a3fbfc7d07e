"""Health of the install: database, Redis and a live worker."""

from __future__ import annotations

import time

from redis import Redis

from webapp.db import database
from webapp.ingest.queue import HEARTBEAT_KEY


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


def check_worker(redis: Redis, max_age: int) -> str | None:
    try:
        beat = redis.get(HEARTBEAT_KEY)
    except Exception:
        return "unknown: Redis unreachable"
    if beat is None:
        return "no worker heartbeat"
    age = time.time() - float(beat)
    return None if age <= max_age else f"last heartbeat {age:.0f}s ago"


def report(redis: Redis, max_age: int) -> tuple[bool, dict[str, str]]:
    problems = {
        "database": check_database(),
        "redis": check_redis(redis),
        "worker": check_worker(redis, max_age),
    }
    checks = {name: problem or "ok" for name, problem in problems.items()}
    return all(problem is None for problem in problems.values()), checks
