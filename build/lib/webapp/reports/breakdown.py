"""Breakdowns: the top values of one metadata property, with event counts, unique users and
each value's share of the events in scope (events without the property count as None)."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.reports import engine
from webapp.reports.columns import load
from webapp.reports.definition import BadReport, Match, Scope, percent, query
from webapp.reports.events import NO_CODE

MAX_LIMIT = 100


@dataclass(frozen=True)
class Breakdown:
    prop: str
    events: Match = Match(None)  # an event type, or every event
    limit: int = 20

    def __post_init__(self):
        problems = []
        if not self.prop:
            problems.append("name the metadata property to break down by")
        if not 1 <= self.limit <= MAX_LIMIT:
            problems.append(f"limit is from 1 to {MAX_LIMIT}")
        if problems:
            raise BadReport(problems)


def compute(breakdown: Breakdown, scope: Scope) -> dict:
    total, ranked = _fast(breakdown, scope) or _ranked(breakdown, scope)
    values = [{"value": value, "count": n, "uniqueUsers": users,
               "share": percent(n, total)} for value, n, users in ranked]
    return {"property": breakdown.prop, "eventType": breakdown.events.event_type,
            "total": total, "otherCount": total - sum(v["count"] for v in values),
            "values": values}


def _fast(breakdown: Breakdown, scope: Scope) -> tuple[int, list] | None:
    """The total and top values from the packed days (None when the engine cannot serve it)."""
    if breakdown.events.conditions:
        return None
    found = load.of_scope_prop(scope, breakdown.prop)
    if found is None:
        return None
    kind = breakdown.events.event_type
    if kind is not None:
        found = found.where(found.kinds == (found.names.index(kind) if kind in found.names
                                            else NO_CODE))
    return load.run(engine.breakdown, found.users, found.codes, found.values,
                    breakdown.limit)


def _ranked(breakdown: Breakdown, scope: Scope) -> tuple[int, list]:
    """The total and top values, from SQL."""
    params: list = [breakdown.prop]
    where = scope.sql("e", params) + " AND " + breakdown.events.sql("e", params)
    params.append(breakdown.limit)
    rows = query(f"""
SELECT value, n, users, total FROM (
    SELECT value, sum(n) AS n, count(*) AS users, sum(sum(n)) OVER () AS total
    FROM (  -- (value, user) pairs first: hashed, with no sort of the users' text
        SELECT e.metadata->>%s AS value, e.user_id, count(*) AS n
        FROM event e WHERE {where} GROUP BY 1, 2
    ) pairs GROUP BY value
) t ORDER BY n DESC, value COLLATE "C" NULLS LAST LIMIT %s""", params)
    total = int(rows[0][3]) if rows else 0
    return total, [(value, int(n), int(users)) for value, n, users, _ in rows]
