"""A user's timeline: first and last seen, events per type, and every event newest first.

The summary (per type: count, first and last time) of the days before today (UTC) is cached
like a report (`webapp.reports.cache`: until a commit touches one of those days); today's part
is read each time, through the user index on today's partition only, and the two are added
up. A page is read from today's rows first, then from the last week's, and from the whole
scope only when those do not fill it. So a timeline after a commit to today reads the user's
rows of today (or of the week), not of every day: a user with ten thousand events spread over
a month costs a few hundred rows, not ten thousand scattered over the table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from webapp.db import database
from webapp.models import Event, iso
from webapp.reads.events import decode_cursor, encode_cursor
from webapp.reports import cache
from webapp.reports.definition import Scope
from webapp.reports.events import EPOCH, instant_us

RECENT_DAYS = (0, 6)  # a page is read from today's rows, then the last week's, then all
SUMMARY = """
SELECT e.event_type, count(*), min(e."timestamp"), max(e."timestamp")
FROM event e WHERE {where} GROUP BY e.event_type
"""
# The user's rows, through the (project, user) index (MATERIALIZED: the planner would
# otherwise walk the time index backwards, newest first, filtering out every other user's
# rows: for a user with one event in a thousand, a hundred thousand rows a page), newest first.
PAGE = """
WITH mine AS MATERIALIZED (
    SELECT e.id, e.event_id, e.event_type, e.user_id, e."timestamp", e.metadata, e.received_at
    FROM event e WHERE {where}
)
SELECT * FROM mine ORDER BY "timestamp" DESC, id DESC LIMIT %s
"""
# The hour of the project's earliest event, from the hourly rollups (exact, written with the
# events; one index entry, where the events' own minimum asks every partition).
FIRST_HOUR = "SELECT min(hour) FROM event_rollup_hour WHERE project_id = %s"


def compute(scope: Scope, user_id: str, limit: int = 100, cursor: str | None = None,
            now: datetime | None = None) -> dict:
    """The summary over the scope, and one page of its events (newest first)."""
    now = now or datetime.now(UTC)
    today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    summary = sorted(_summary(scope, user_id, today).items(),
                     key=lambda item: (-item[1][0], item[0].encode()))  # as COLLATE "C"
    after = decode_cursor(cursor) if cursor else None
    events = _page(scope, user_id, limit + 1, after, today)
    page_rows, more = events[:limit], len(events) > limit
    first = min((first for _, (_, first, _) in summary), default=None)
    last = max((last for _, (_, _, last) in summary), default=None)
    return {
        "userId": user_id,
        "firstSeen": iso(first) if first else None,
        "lastSeen": iso(last) if last else None,
        "totalEvents": sum(count for _, (count, _, _) in summary),
        "eventTypes": [{"type": name, "count": count} for name, (count, _, _) in summary],
        "events": [event.to_api() for event in page_rows],
        "count": len(page_rows),
        "nextCursor": encode_cursor(page_rows[-1]) if more else None,
    }


def _summary(scope: Scope, user_id: str, today: datetime) -> dict[str, tuple]:
    """Per type: (count, first, last), from the cached days before today and today's rows."""
    parts: list[list] = []
    if scope.start is None or scope.start < today:
        parts += _before(replace(scope, end=today if scope.end is None else min(scope.end, today)),
                         user_id)
    if scope.end is None or scope.end > today:
        parts += _summary_of(replace(scope, start=today if scope.start is None
                                     else max(scope.start, today)), user_id)
    merged: dict[str, tuple] = {}
    for name, count, first_us, last_us in parts:
        first, last = _moment(first_us), _moment(last_us)
        if name in merged:
            had = merged[name]
            merged[name] = (had[0] + count, min(had[1], first), max(had[2], last))
        else:
            merged[name] = (count, first, last)
    return merged


def _before(scope: Scope, user_id: str) -> list[list]:
    """The summary rows of a scope that ends by today, cached until a commit touches one of
    its days. An unbounded start is the hour of the project's first event (part of the
    cache's identity: a late event before it moves it)."""
    start = scope.start
    if start is None:
        (start,) = database.execute_sql(FIRST_HOUR, (scope.project_id,)).fetchone()
        if start is None:
            return []
    if start >= scope.end:
        return []
    identity = repr(("timeline", user_id, scope.start, scope.end, scope.filters, start))
    data, _ = cache.cached(scope.project_id, identity, lambda: _summary_of(scope, user_id),
                           ranges=[(start, scope.end)])
    return data


def _where(scope: Scope, user_id: str, params: list) -> str:
    """The condition on the user's events in the scope (its parameters added to `params`)."""
    where = scope.sql("e", params) + " AND e.user_id = %s"
    params.append(user_id)
    return where


def _summary_of(scope: Scope, user_id: str) -> list[list]:
    """[type, count, first and last microseconds] of the user's events in the scope."""
    params: list = []
    where = _where(scope, user_id, params)
    rows = database.execute_sql(SUMMARY.format(where=where), params).fetchall()
    return [[name, int(count), instant_us(first), instant_us(last)]
            for name, count, first, last in rows]


def _moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _page(scope: Scope, user_id: str, size: int, after: tuple | None, today: datetime
          ) -> list[Event]:
    """Up to `size` of the user's events in the scope before the cursor `after`, newest
    first: from today's rows when they are enough, else from the last week's, else from the
    whole scope (each read only the partitions of its days)."""
    for days in RECENT_DAYS:
        start = today - timedelta(days=days)
        if scope.start is not None and scope.start >= start:
            break  # the whole scope is no longer than this
        if scope.end is not None and scope.end <= start:
            continue
        recent = _read(replace(scope, start=start), user_id, size, after)
        if len(recent) == size:  # all newer than any row before `start`
            return recent
    return _read(scope, user_id, size, after)


def _read(scope: Scope, user_id: str, size: int, after: tuple | None) -> list[Event]:
    params: list = []
    where = _where(scope, user_id, params)
    if after is not None:
        where += ' AND (e."timestamp", e.id) < (%s, %s)'
        params.extend(after)
    params.append(size)
    rows = database.execute_sql(PAGE.format(where=where), params).fetchall()
    return [Event(id=r[0], event_id=r[1], event_type=r[2], user_id=r[3], timestamp=r[4],
                  metadata=r[5], received_at=r[6]) for r in rows]
