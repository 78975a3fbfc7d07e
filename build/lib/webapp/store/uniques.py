"""Unique-user sketches: each batch's users added to HyperLogLogs in Redis, one per bucket.

The reads count from them (`webapp.reads.uniques`) once a window holds too many events to
count exactly."""

from __future__ import annotations

from datetime import datetime

from redis import Redis

# sketch width (seconds) -> how long its sketches are kept
KEEP_SECONDS = {60: 2 * 3600, 1800: 3 * 86400, 10800: 9 * 86400}


def sketch_key(project_id: int, seconds: int, epoch: int) -> str:
    return f"pulseboard:hll:{project_id}:{seconds}:{epoch}"


def record(redis: Redis, project_id: int, payload: list[dict]) -> None:
    """Add a batch's users to the sketch of each bucket their events fall in (idempotent);
    `redis` may be a pipeline, which the caller executes."""
    users_at: dict[str, set[str]] = {}  # events of a batch share few timestamps
    for item in payload:
        users_at.setdefault(item["ts"], set()).add(item["user"])
    groups: dict[str, set[str]] = {}
    for stamp, users in users_at.items():
        epoch = int(datetime.fromisoformat(stamp).timestamp())
        for seconds in KEEP_SECONDS:
            groups.setdefault(sketch_key(project_id, seconds, epoch - epoch % seconds),
                              set()).update(users)
    for key, users in groups.items():
        redis.pfadd(key, *users)
        redis.expire(key, KEEP_SECONDS[int(key.split(":")[3])])

