"""Statistics of a project over a window, aggregated in PostgreSQL from the rollups."""

from __future__ import annotations

from datetime import datetime

from peewee import fn

from .db import database
from .models import Event, EventRollupMinute, InvalidRollupMinute, iso
from .windows import Window

TOP_TYPES = 5


def counts_by_type(project_id: int, start: datetime) -> dict[str, int]:
    query = (EventRollupMinute
             .select(EventRollupMinute.event_type, fn.SUM(EventRollupMinute.count))
             .where(EventRollupMinute.project == project_id, EventRollupMinute.minute >= start)
             .group_by(EventRollupMinute.event_type)
             .tuples())
    return {event_type: int(n) for event_type, n in query}


def invalid_count(project_id: int, start: datetime) -> int:
    total = (InvalidRollupMinute
             .select(fn.COALESCE(fn.SUM(InvalidRollupMinute.count), 0))
             .where(InvalidRollupMinute.project == project_id, InvalidRollupMinute.minute >= start)
             .scalar())
    return int(total)


def unique_users(project_id: int, start: datetime) -> int:
    inner = (Event.select(Event.user_id)
             .where(Event.project == project_id, Event.timestamp >= start)
             .distinct())
    return inner.count()


def series(project_id: int, window: Window, now: datetime) -> list[dict]:
    """Events per bucket, every bucket of the window present (zero when empty)."""
    seconds = int(window.bucket.total_seconds())
    start = window.start(now)
    cursor = database.execute_sql(
        "SELECT floor(extract(epoch FROM minute) / %s)::bigint * %s AS bucket, sum(count) "
        "FROM event_rollup_minute WHERE project_id = %s AND minute >= %s GROUP BY 1",
        (seconds, seconds, project_id, start),
    )
    by_epoch = {int(epoch): int(n) for epoch, n in cursor.fetchall()}
    return [
        {"timestamp": iso(moment), "count": by_epoch.get(int(moment.timestamp()), 0)}
        for moment in window.bucket_starts(now)
    ]


def top_types(counts: dict[str, int], total: int, limit: int = TOP_TYPES) -> list[dict]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [
        {"type": t, "count": n, "percentage": round(100 * n / total, 2) if total else 0.0}
        for t, n in ranked
    ]


def compute(project_id: int, window: Window, now: datetime) -> dict:
    """The `/events/stats` data object."""
    start = window.start(now)
    counts = counts_by_type(project_id, start)
    total = sum(counts.values())
    return {
        "totalEvents": total,
        "invalidEvents": invalid_count(project_id, start),
        "uniqueUsers": unique_users(project_id, start),
        "statistics": dict(sorted(counts.items())),
        "topEventTypes": top_types(counts, total),
        "series": series(project_id, window, now),
        "bucket": window.bucket_label,
        "filter": window.name,
        "from": iso(start),
    }
