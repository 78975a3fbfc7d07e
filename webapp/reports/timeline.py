"""A user's timeline: first and last seen, events per type, and every event newest first."""

from __future__ import annotations

from webapp.db import database
from webapp.models import Event, iso
from webapp.reads.events import decode_cursor, encode_cursor
from webapp.reports.definition import Scope

# One statement reads the user's rows once, through the (project, user) index (MATERIALIZED:
# the planner would otherwise walk the time index backwards, newest first, filtering out every
# other user's rows: for a user with one event in a thousand, a hundred thousand rows a page).
# It returns the summary rows ("s": a type, its count, first and last time) and the page rows
# ("p": one event each, read by its time and id).
TIMELINE = """
WITH mine AS MATERIALIZED (
    SELECT e.id, e.event_type, e."timestamp" FROM event e WHERE {where}
), page AS (
    SELECT id, "timestamp" FROM mine WHERE {page} ORDER BY "timestamp" DESC, id DESC LIMIT %s
)
SELECT 's', NULL::bigint, NULL, event_type, NULL, NULL::timestamptz, NULL::jsonb,
       NULL::timestamptz, count(*), min("timestamp"), max("timestamp")
FROM mine GROUP BY event_type
UNION ALL
SELECT 'p', e.id, e.event_id, e.event_type, e.user_id, e."timestamp", e.metadata,
       e.received_at, NULL, NULL, NULL
FROM page JOIN event e ON e.project_id = %s AND e."timestamp" = page."timestamp"
                       AND e.id = page.id
"""


def compute(scope: Scope, user_id: str, limit: int = 100, cursor: str | None = None) -> dict:
    """The summary over the scope, and one page of its events (newest first)."""
    params: list = []
    where = scope.sql("e", params) + " AND e.user_id = %s"
    params.append(user_id)
    page = "TRUE"
    if cursor:
        moment, row_id = decode_cursor(cursor)
        page = '("timestamp", id) < (%s, %s)'
        params.extend((moment, row_id))
    params.extend((limit + 1, scope.project_id))
    rows = database.execute_sql(TIMELINE.format(where=where, page=page), params).fetchall()
    summary = sorted(((r[3], r[8], r[9], r[10]) for r in rows if r[0] == "s"),
                     key=lambda row: (-row[1], row[0].encode()))  # as COLLATE "C"
    events = sorted((Event(id=r[1], event_id=r[2], event_type=r[3], user_id=r[4],
                           timestamp=r[5], metadata=r[6], received_at=r[7])
                     for r in rows if r[0] == "p"),
                    key=lambda event: (event.timestamp, event.id), reverse=True)
    page_rows, more = events[:limit], len(events) > limit
    total = sum(n for _, n, _, _ in summary)
    first = min((row[2] for row in summary), default=None)
    last = max((row[3] for row in summary), default=None)
    return {
        "userId": user_id,
        "firstSeen": iso(first) if first else None,
        "lastSeen": iso(last) if last else None,
        "totalEvents": int(total),
        "eventTypes": [{"type": t, "count": int(n)} for t, n, _, _ in summary],
        "events": [event.to_api() for event in page_rows],
        "count": len(page_rows),
        "nextCursor": encode_cursor(page_rows[-1]) if more else None,
    }
