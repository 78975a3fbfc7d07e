"""Counts of the events that meet property filters, from the events themselves (the rollups
hold no metadata), the window's events found through the time index."""

from __future__ import annotations

from datetime import datetime

from webapp.db import database
from webapp.reads import filters
from webapp.reads.filters import Condition
from webapp.reads.windows import Window


def count(project_id: int, window: Window, start: datetime, where: tuple[Condition, ...]
          ) -> tuple[dict[str, int], int, list[tuple]]:
    """Of the events since `start` that meet the filters: their count per type, their unique
    users, and (bucket epoch, count) rows of the window's buckets."""
    params: list = [project_id, start]
    base = ('FROM event e WHERE e.project_id = %s AND e."timestamp" >= %s AND '
            + filters.sql(where, "e", params))
    counts = {kind: int(n) for kind, n in database.execute_sql(
        f"SELECT e.event_type, count(*) {base} GROUP BY 1", params).fetchall()}
    (users,) = database.execute_sql(f"SELECT count(DISTINCT e.user_id) {base}",
                                    params).fetchone()
    seconds = int(window.bucket.total_seconds())
    rows = database.execute_sql(
        f'SELECT floor(extract(epoch FROM e."timestamp") / %s)::bigint * %s, count(*) {base} '
        "GROUP BY 1", [seconds, seconds, *params]).fetchall()
    return counts, int(users), rows
