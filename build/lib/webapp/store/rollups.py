"""Rebuilding rollups (and unique-user sketches) from raw events, a day at a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from redis import Redis

from webapp.db import database
from webapp.store import uniques

DAY = timedelta(days=1)
REBUILD_SQL = """
DELETE FROM event_rollup_minute WHERE minute >= %(start)s AND minute < %(end)s;
INSERT INTO event_rollup_minute (project_id, minute, event_type, count)
    SELECT project_id, date_trunc('minute', "timestamp"), event_type, count(*)
    FROM event WHERE "timestamp" >= %(start)s AND "timestamp" < %(end)s GROUP BY 1, 2, 3;
DELETE FROM event_rollup_hour WHERE hour >= %(start)s AND hour < %(end)s;
INSERT INTO event_rollup_hour (project_id, hour, event_type, count)
    SELECT project_id, date_trunc('hour', minute), event_type, sum(count)
    FROM event_rollup_minute WHERE minute >= %(start)s AND minute < %(end)s GROUP BY 1, 2, 3;
"""


def days(since: datetime, until: datetime) -> list[datetime]:
    first = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [first + DAY * i for i in range((until - first) // DAY + 1)]


def oldest_event() -> datetime | None:
    return database.execute_sql('SELECT min("timestamp") FROM event').fetchone()[0]


def rebuild_day(start: datetime) -> None:
    """Recompute one UTC day's minute and hour rollups from the events table.

    Workers adding rows meanwhile wait for the lock and then add their own counts, so nothing is
    counted twice or lost."""
    with database.atomic():
        database.execute_sql("LOCK TABLE event_rollup_minute, event_rollup_hour "
                             "IN SHARE ROW EXCLUSIVE MODE")
        database.execute_sql(REBUILD_SQL, {"start": start, "end": start + DAY})


def user_buckets(start: datetime, seconds: int) -> Iterator[tuple]:
    """(project, bucket epoch, user) for one day, streamed from a server-side cursor."""
    name = f"sketch_{seconds}_{int(start.timestamp())}"
    with database.atomic():
        database.execute_sql(
            f"DECLARE {name} NO SCROLL CURSOR FOR SELECT DISTINCT project_id, "
            f"(floor(extract(epoch FROM \"timestamp\") / {seconds}) * {seconds})::bigint, user_id "
            "FROM event WHERE \"timestamp\" >= %s AND \"timestamp\" < %s", (start, start + DAY))
        while batch := database.execute_sql(f"FETCH 5000 FROM {name}").fetchall():
            yield from batch


def rebuild_sketches(redis: Redis, start: datetime) -> None:
    for seconds, keep in uniques.KEEP_SECONDS.items():
        pipe = redis.pipeline(transaction=False)
        for n, (project_id, epoch, user) in enumerate(user_buckets(start, seconds), 1):
            key = uniques.sketch_key(project_id, seconds, epoch)
            pipe.pfadd(key, user)
            pipe.expire(key, keep)
            if n % 5000 == 0:
                pipe.execute()
        pipe.execute()

