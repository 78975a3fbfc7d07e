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
    first, last, total = database.execute_sql(
        f'SELECT min(e."timestamp"), max(e."timestamp"), count(*) FROM event e WHERE {where}',
        params).fetchone()
    by_type = database.execute_sql(
        f"SELECT e.event_type, count(*) FROM event e WHERE {where} "
        'GROUP BY 1 ORDER BY count(*) DESC, e.event_type COLLATE "C"', params).fetchall()
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
