"""A user's timeline: first and last seen, events per type, and every event newest first."""

from __future__ import annotations

from webapp.db import database
from webapp.models import Event, iso
from webapp.reads.events import decode_cursor, encode_cursor
from webapp.reports.definition import Scope


def compute(scope: Scope, user_id: str, limit: int = 100, cursor: str | None = None) -> dict:
    """The summary over the scope, and one page of its events (newest first)."""
    params: list = []
    where = scope.sql("e", params) + " AND e.user_id = %s"
    params.append(user_id)
    # one read of the user's rows (found through the (project, user) index) for the summary
    summary = database.execute_sql(
        f'SELECT e.event_type, count(*), min(e."timestamp"), max(e."timestamp") '
        f"FROM event e WHERE {where} "
        'GROUP BY 1 ORDER BY count(*) DESC, e.event_type COLLATE "C"', params).fetchall()
    by_type = [(kind, n) for kind, n, _, _ in summary]
    total = sum(n for _, n in by_type)
    first = min((row[2] for row in summary), default=None)
    last = max((row[3] for row in summary), default=None)
    page_params = list(params)
    page_where = where
    if cursor:
        moment, row_id = decode_cursor(cursor)
        page_where += ' AND (e."timestamp", e.id) < (%s, %s)'
        page_params.extend((moment, row_id))
    page_params.append(limit + 1)
    rows = list(Event.raw(
        f'SELECT e.* FROM event e WHERE {page_where} ORDER BY e."timestamp" DESC, e.id DESC '
        "LIMIT %s", *page_params))
    page, more = rows[:limit], len(rows) > limit
    return {
        "userId": user_id,
        "firstSeen": iso(first) if first else None,
        "lastSeen": iso(last) if last else None,
        "totalEvents": int(total),
        "eventTypes": [{"type": t, "count": int(n)} for t, n in by_type],
        "events": [event.to_api() for event in page],
        "count": len(page),
        "nextCursor": encode_cursor(page[-1]) if more else None,
    }
