"""Statistics of the events that meet property filters: counted from the events themselves
(the rollups hold no metadata), the window's events found through the time index."""

from __future__ import annotations

from datetime import datetime

from webapp.db import database
from webapp.models import iso
from webapp.reads import filters
from webapp.reads.filters import Condition
from webapp.reads.windows import Window


def compute(project_id: int, window: Window, now: datetime,
            where: tuple[Condition, ...]) -> dict:
    from webapp.reads import stats

    start = window.start(now)
    params: list = [project_id, start]
    base = ('FROM event e WHERE e.project_id = %s AND e."timestamp" >= %s AND '
            + filters.sql(where, "e", params))
    counts = {kind: int(n) for kind, n in database.execute_sql(
        f"SELECT e.event_type, count(*) {base} GROUP BY 1", params).fetchall()}
    users = database.execute_sql(f"SELECT count(DISTINCT e.user_id) {base}", params).fetchone()
    seconds = int(window.bucket.total_seconds())
    rows = database.execute_sql(
        f'SELECT floor(extract(epoch FROM e."timestamp") / %s)::bigint * %s, count(*) {base} '
        "GROUP BY 1", [seconds, seconds, *params]).fetchall()
    total = sum(counts.values())
    return {
        "totalEvents": total,
        "invalidEvents": stats.invalid_count(project_id, start),  # refused events: no metadata
        "uniqueUsers": int(users[0]),
        "uniqueUsersApproximate": False,
        "statistics": dict(sorted(counts.items())),
        "topEventTypes": stats.top_types(counts, total),
        "series": stats.fold_series(window, now, rows),
        "bucket": window.bucket_label,
        "filter": window.name,
        "from": iso(start),
        "where": [str(c) for c in where],
    }
