"""Recent days read an hour at a time.

Days this recent that a commit has changed since they were packed are read an hour at a time:
live traffic changes the current hour, so a report after a commit reads that hour again, not
the whole day. An hour's pack is kept in a worker's memory (`memory.MEMORY`) with its commit
count (`webapp.reports.cache.touch` counts commits per hour for the last few days), like a
day's row; a late event to an earlier hour repacks that hour only.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from time import monotonic

from flask import current_app

from webapp.db import database
from webapp.reports import cache
from webapp.reports.columns import memory
from webapp.reports.columns.build import day_bounds, pack_day, pack_prop
from webapp.reports.definition import TIME_LIMIT, TooSlow

RECENT_DAYS = 2
EVENT_HOURS = """
SELECT hour FROM event_rollup_hour
WHERE project_id = %s AND hour >= %s AND hour < %s GROUP BY hour ORDER BY hour
"""


def chunks(table: str, project_id: int, day: date, prop: str | None
           ) -> list[tuple[tuple, tuple]] | None:
    """The hours of one day that hold events, each packed on its own, in order, as `_fetch`
    gives days (key, value); None when Redis is away. Within a time limit
    (`definition.time_limit`), TooSlow once packing outlasts it (a worker keeps the hours
    packed so far for the next try)."""
    limit = TIME_LIMIT.get()
    deadline = monotonic() + limit / 1000 if limit else None
    start, end = day_bounds(day)
    hours = [hour.astimezone(UTC) for (hour,) in database.execute_sql(
        EVENT_HOURS, (project_id, start, end)).fetchall()]
    try:
        pipe = current_app.extensions["redis"].pipeline(transaction=False)
        cache.ask_hours(pipe, project_id, [hour.strftime("%Y-%m-%dT%H") for hour in hours])
        epoch, *counts = pipe.execute()[1]
    except Exception:
        return None
    chunks = []
    for hour, count in zip(hours, counts, strict=True):
        key = (f"{table}:hour", project_id, prop, hour, int(epoch), int(count or 0))
        value = memory.MEMORY.get(key)
        if value is None:
            following = hour + timedelta(hours=1)
            value = (pack_day(project_id, hour, following) if prop is None or
                     table == "report_day" else pack_prop(project_id, hour, following, prop))
            memory.MEMORY.put(key, value)
            if deadline is not None and monotonic() > deadline:
                raise TooSlow()
        if len(value[-1]):
            chunks.append((key, value))
    return chunks
