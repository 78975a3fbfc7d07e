"""Retention: cohorts by the local day or week of each user's first start event, and how many
of them come back with a return event in each later period.

A user is born at their first start event ever (matching the filters); the cohort is the day or
week (Monday first) of that instant in the project's time zone, and only births in the range
count. Return events count from the birth instant (so the birth event itself counts in period 0
when it also matches the return event) up to the end of the range. Period N is the Nth day or
week after the cohort's, in calendar terms in that zone. "on" counts users who returned in
period N; "on_or_after" those who returned in period N or any later one. A period that starts
after the range's end is not yet known: None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from webapp.reads.ranges import local_date
from webapp.reports import engine
from webapp.reports.columns import load
from webapp.reports.definition import BadReport, Match, Scope, percent, query
from webapp.reports.events import instant_us

UNITS = {"day": 1, "week": 7}
MODES = ("on", "on_or_after")
MAX_PERIODS = 12


@dataclass(frozen=True)
class Retention:
    start: Match = Match(None)  # the birth event: any event, or a chosen type
    back: Match = Match(None)  # the return event
    unit: str = "day"
    periods: int = 8
    mode: str = "on"

    def __post_init__(self):
        problems = []
        if self.unit not in UNITS:
            problems.append(f"unit is one of {', '.join(UNITS)}")
        if not 1 <= self.periods <= MAX_PERIODS:
            problems.append(f"periods is from 1 to {MAX_PERIODS}")
        if self.mode not in MODES:
            problems.append(f"mode is one of {', '.join(MODES)}")
        if problems:
            raise BadReport(problems)


def _bucket(unit: str, column: str) -> str:
    local = f"({column} AT TIME ZONE %s)"
    return f"{local}::date" if unit == "day" else f"date_trunc('week', {local})::date"


def compute(retention: Retention, scope: Scope) -> dict:
    rows = _fast(retention, scope)
    if rows is None:
        rows = _rows(retention, scope)
    last_day = local_date(scope.end - timedelta(microseconds=1), scope.time_zone)
    step = UNITS[retention.unit]
    cohorts = []
    for cohort_day, users, *cells in rows:
        known = (last_day - cohort_day).days // step  # the periods started by the end
        counts = [int(n) if i <= known else None for i, n in enumerate(cells)]
        cohorts.append({
            "cohort": cohort_day.isoformat(),
            "users": int(users),
            "counts": counts,
            "percentages": [None if n is None else percent(n, int(users)) for n in counts],
        })
    return {"unit": retention.unit, "mode": retention.mode, "periods": retention.periods,
            "cohorts": cohorts}


def _fast(retention: Retention, scope: Scope) -> list[tuple] | None:
    """(cohort, users, *counts) rows from the packed days (None when the engine cannot serve
    it); births need every earlier event of the project too."""
    if retention.start.conditions or retention.back.conditions:
        return None
    events = load.of_scope(scope, history=True)
    if events is None:
        return None
    first = local_date(scope.start, scope.time_zone)
    last = local_date(scope.end - timedelta(microseconds=1), scope.time_zone)
    found = load.run(
        engine.retention, events, instant_us(scope.start), instant_us(scope.end),
        retention.start.event_type, retention.back.event_type, retention.unit == "week",
        retention.periods, retention.mode == "on_or_after", scope.time_zone, first, last,
        MAX_PERIODS)
    return [(cohort, users, *counts) for cohort, users, counts in found]


def _rows(retention: Retention, scope: Scope) -> list[tuple]:
    """(cohort, users, *counts) rows, from SQL."""
    params: list = []  # in the order the placeholders appear in the text
    born_where = scope.sql("e", params) + " AND " + retention.start.sql("e", params)
    cohort = _bucket(retention.unit, "b.born")
    params.append(scope.time_zone)
    earlier = Scope(scope.project_id, None, scope.start, scope.time_zone, scope.filters)
    before = earlier.sql("p", params) + " AND " + retention.start.sql("p", params)
    period = _bucket(retention.unit, 'e."timestamp"')
    params.extend((scope.time_zone, UNITS[retention.unit]))
    later = Scope(scope.project_id, None, scope.end, scope.time_zone, scope.filters)
    back_where = later.sql("e", params) + " AND " + retention.back.sql("e", params)
    sql = f"""
WITH born AS (
    SELECT e.user_id, min(e."timestamp") AS born FROM event e WHERE {born_where}
    GROUP BY e.user_id
), cohort AS (
    SELECT b.user_id, b.born, {cohort} AS cohort FROM born b
    WHERE NOT EXISTS (SELECT 1 FROM event p WHERE p.user_id = b.user_id AND {before})
), back AS (  -- per user: the shown periods they came back in (bits), and the last one
    SELECT c.user_id, bit_or(CASE WHEN x.period < {MAX_PERIODS} THEN 1 << x.period ELSE 0 END)
               AS shown, max(x.period) AS last
    FROM cohort c JOIN event e ON e.user_id = c.user_id AND e."timestamp" >= c.born
    CROSS JOIN LATERAL (SELECT ({period} - c.cohort) / %s AS period) x
    WHERE {back_where}
    GROUP BY c.user_id
)
SELECT c.cohort, count(*),
       {', '.join(_cell(retention, n) for n in range(retention.periods))}
FROM cohort c LEFT JOIN back b USING (user_id) GROUP BY c.cohort ORDER BY c.cohort
"""
    return query(sql, params)


def _cell(retention: Retention, n: int) -> str:
    if retention.mode == "on":
        return f"count(*) FILTER (WHERE b.shown & {1 << n} <> 0)"
    return f"count(*) FILTER (WHERE b.last >= {n})"
