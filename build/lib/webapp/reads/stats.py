"""Statistics of a project over a window: from the rollups, cached in Redis until data changes."""

from __future__ import annotations

import time
from datetime import datetime

import orjson
from flask import current_app
from peewee import fn
from redis import Redis

from webapp.db import database
from webapp.models import EventRollupHour, EventRollupMinute, InvalidRollupMinute, Project, iso
from webapp.reads import filtered, uniques
from webapp.reads.filters import Condition
from webapp.reads.windows import Window

TOP_TYPES = 5


def rollup_for(window: Window):
    """Hourly rows serve windows made of whole hours (the week); minute rows the rest."""
    if window.bucket.total_seconds() % 3600 == 0:
        return EventRollupHour, EventRollupHour.hour
    return EventRollupMinute, EventRollupMinute.minute


def counts_by_type(project_id: int, window: Window, start: datetime) -> dict[str, int]:
    model, moment = rollup_for(window)
    query = (model.select(model.event_type, fn.SUM(model.count))
             .where(model.project == project_id, moment >= start)
             .group_by(model.event_type).tuples())
    return {event_type: int(n) for event_type, n in query}


def invalid_count(project_id: int, start: datetime) -> int:
    total = (InvalidRollupMinute
             .select(fn.COALESCE(fn.SUM(InvalidRollupMinute.count), 0))
             .where(InvalidRollupMinute.project == project_id, InvalidRollupMinute.minute >= start)
             .scalar())
    return int(total)


def series(project_id: int, window: Window, now: datetime) -> list[dict]:
    """Events per bucket, every bucket of the window present (zero when empty); the current
    bucket also holds events stamped a little ahead of the clock."""
    model, moment = rollup_for(window)
    seconds = int(window.bucket.total_seconds())
    cursor = database.execute_sql(
        f"SELECT floor(extract(epoch FROM {moment.column_name}) / %s)::bigint * %s, sum(count) "
        f"FROM {model._meta.table_name} WHERE project_id = %s AND {moment.column_name} >= %s "
        "GROUP BY 1",
        (seconds, seconds, project_id, window.start(now)),
    )
    return fold_series(window, now, cursor.fetchall())


def fold_series(window: Window, now: datetime, rows: list[tuple]) -> list[dict]:
    """(bucket epoch, count) rows as the window's series, every bucket present."""
    starts = window.bucket_starts(now)
    last = int(starts[-1].timestamp())
    by_epoch: dict[int, int] = {}
    for epoch, n in rows:  # events up to 5 minutes ahead count in the last bucket
        key = min(int(epoch), last)
        by_epoch[key] = by_epoch.get(key, 0) + int(n)
    return [{"timestamp": iso(start), "count": by_epoch.get(int(start.timestamp()), 0)}
            for start in starts]


def top_types(counts: dict[str, int], total: int, limit: int = TOP_TYPES) -> list[dict]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [
        {"type": t, "count": n, "percentage": round(100 * n / total, 2) if total else 0.0}
        for t, n in ranked
    ]


def compute_fresh(redis: Redis, project_id: int, window: Window, now: datetime) -> dict:
    """The `/events/stats` data object, from the rollups (never from a scan of raw events)."""
    start = window.start(now)
    counts = counts_by_type(project_id, window, start)
    total = sum(counts.values())
    users, approximate = uniques.count(redis, project_id, window, now, total)
    data = {
        "totalEvents": total,
        "invalidEvents": invalid_count(project_id, start),
        "uniqueUsers": users,
        "uniqueUsersApproximate": approximate,
        "statistics": dict(sorted(counts.items())),
        "topEventTypes": top_types(counts, total),
        "series": series(project_id, window, now),
        "bucket": window.bucket_label,
        "filter": window.name,
        "from": iso(start),
    }
    if approximate:
        data["uniqueUsersError"] = uniques.ERROR_NOTE
    return data


def compute_filtered(project_id: int, window: Window, now: datetime,
                     where: tuple[Condition, ...]) -> dict:
    """The same data object for the events that meet property filters, counted from the
    events themselves (`filtered`), exactly."""
    start = window.start(now)
    counts, users, rows = filtered.count(project_id, window, start, where)
    total = sum(counts.values())
    return {
        "totalEvents": total,
        "invalidEvents": invalid_count(project_id, start),  # refused events: no metadata
        "uniqueUsers": users,
        "uniqueUsersApproximate": False,
        "statistics": dict(sorted(counts.items())),
        "topEventTypes": top_types(counts, total),
        "series": fold_series(window, now, rows),
        "bucket": window.bucket_label,
        "filter": window.name,
        "from": iso(start),
        "where": [str(c) for c in where],
    }


def version_key(project_id: int) -> str:
    return f"pulseboard:stats:{project_id}:version"


def cache_key(project_id: int, window: Window, now: datetime) -> str:
    return f"pulseboard:stats:{project_id}:{window.name}:{int(window.start(now).timestamp())}"


def start_version(pipe, project_id: int) -> None:
    """A missing version starts at a clock reading, not at zero: an entry cached before the key
    was lost (keys flushed, Redis restored from an older snapshot) never matches a new one."""
    pipe.set(version_key(project_id), time.time_ns(), nx=True)


def invalidate(redis: Redis, project_id: int) -> None:
    """After a commit: every cached figure of the project is out of date (`redis` may be a
    pipeline, which the caller executes)."""
    start_version(redis, project_id)
    redis.incr(version_key(project_id))


def invalidate_all(redis: Redis) -> None:
    """Every project's cached figures are out of date (after the rollups were rebuilt)."""
    for (project_id,) in Project.select(Project.id).tuples():
        invalidate(redis, project_id)


def compute(project_id: int, window: Window, now: datetime,
            where: tuple[Condition, ...] = ()) -> dict:
    """Cached stats for the window, valid while no commit has touched the project since;
    with property filters, counted from the matching events instead (the rollups hold no
    metadata)."""
    if where:
        return compute_filtered(project_id, window, now, where)
    redis: Redis = current_app.extensions["redis"]
    key = cache_key(project_id, window, now)
    try:
        pipe = redis.pipeline(transaction=False)
        start_version(pipe, project_id)
        _, version, cached = pipe.get(version_key(project_id)).get(key).execute()
    except Exception:  # Redis away: answer from PostgreSQL
        return compute_fresh(redis, project_id, window, now)
    version = int(version or 0)
    if cached is not None:
        entry = orjson.loads(cached)
        if entry["v"] == version:
            return entry["data"]
    data = compute_fresh(redis, project_id, window, now)
    # the entry is only ever read while the window starts where it does now
    redis.set(key, orjson.dumps({"v": version, "data": data}),
              ex=int(window.bucket.total_seconds()) + 60)
    return data
