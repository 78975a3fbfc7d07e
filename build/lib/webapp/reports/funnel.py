"""Funnels: how many users go through 2-8 steps, in order, within a conversion window.

A user's events are ordered by (timestamp, storage id). An attempt starts at any event of the
first step in the range; each later step is the user's earliest event of that step after the
previous one (ordered), or must be the user's very next funnel event (strict: no event of any
step in between), and every step lies within `window` of the first. A user counts at the
furthest step any attempt reaches, with the earliest such attempt giving the times to convert
(from the first step) and the breakdown value (a metadata property of its first event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from webapp.reports import engine
from webapp.reports.columns import load
from webapp.reports.definition import BadReport, Match, Scope, percent, query

MIN_STEPS, MAX_STEPS = 2, 8
MIN_WINDOW, MAX_WINDOW = timedelta(minutes=1), timedelta(days=90)
MODES = ("ordered", "strict")
BREAKDOWN_TOP = 10


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Match, ...]
    window: timedelta = timedelta(days=1)
    mode: str = "ordered"
    breakdown: str | None = None  # a metadata property of the first step's event

    def __post_init__(self):
        problems = []
        if not MIN_STEPS <= len(self.steps) <= MAX_STEPS:
            problems.append(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps")
        if any(step.event_type is None for step in self.steps):
            problems.append("every step names an event type")
        if not MIN_WINDOW <= self.window <= MAX_WINDOW:
            problems.append("the conversion window is from 1 minute to 90 days")
        if self.mode not in MODES:
            problems.append(f"mode is one of {', '.join(MODES)}")
        if problems:
            raise BadReport(problems)


def _chain_sql(funnel: Funnel, scope: Scope, params: list) -> str:
    """One row per attempt: user, first position, level reached, seconds to each step."""
    k = len(funnel.steps)
    value = "NULL::text"  # params are appended in the order their placeholders appear
    if funnel.breakdown is not None:
        value = "e.metadata->>%s"
        params.append(funnel.breakdown)
    masks = " | ".join(f"(CASE WHEN {step.sql('e', params)} THEN {1 << i} ELSE 0 END)"
                       for i, step in enumerate(funnel.steps))
    where = scope.sql("e", params)
    any_step = " OR ".join(step.sql("e", params) for step in funnel.steps)
    nexts = "".join(
        f", max(CASE WHEN mask & {1 << i} <> 0 THEN rn END) OVER later AS n{i + 1}"
        for i in range(1, k)) if funnel.mode == "ordered" else ""
    # Events get one global position (rn), numbered backwards through users (bytewise), time
    # and storage, and an integer user number (uid); positions and users are then joined and
    # grouped as integers. In that order a user's later events come first, so the "next event
    # of step j" of a row is the largest position among the rows before it, all in one sort;
    # a pointer is kept only when the row it points to is the same user's.
    sql = f"""
WITH ev AS (
    SELECT e."timestamp" AS ts, {value} AS value, {masks} AS mask,
           row_number() OVER back AS rn, dense_rank() OVER users AS uid
    FROM event e WHERE {where} AND ({any_step})
    WINDOW back AS (ORDER BY e.user_id COLLATE "C" DESC, e."timestamp" DESC, e.id DESC),
           users AS (ORDER BY e.user_id COLLATE "C" DESC)
), nx AS MATERIALIZED (
    SELECT uid, ts, value, mask, rn{nexts} FROM ev
    WINDOW later AS (ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), c1 AS (
    SELECT x.uid, x.rn AS r1, x.ts AS t1, x.value, x.rn AS p1, x.ts AS ts1
           {''.join(f', x.n{i + 1}' for i in range(1, k)) if funnel.mode == 'ordered' else ''}
    FROM nx x WHERE x.mask & 1 <> 0
)"""
    for i in range(1, k):  # step i + 1 joins the previous step's row
        prev = f"c{i}"
        if funnel.mode == "ordered":
            on = f"x.rn = {prev}.n{i + 1}"
        else:
            on = f"x.rn = {prev}.p{i} - 1 AND x.mask & {1 << i} <> 0"
        carry = "".join(f", x.n{j + 1}" for j in range(i + 1, k)) if funnel.mode == "ordered" \
            else ""
        sql += f""", c{i + 1} AS (
    SELECT {prev}.uid, {prev}.r1, {prev}.t1, {prev}.value,
           {''.join(f'{prev}.ts{j}, ' for j in range(1, i + 1))}x.rn AS p{i + 1},
           x.ts AS ts{i + 1}{carry}
    FROM {prev} LEFT JOIN nx x ON {on} AND x.uid = {prev}.uid AND x.ts <= {prev}.t1 + %s
)"""
        params.append(funnel.window)
    levels = " + ".join(f"(ts{i} IS NOT NULL)::int" for i in range(1, k + 1))
    seconds = ", ".join(f"extract(epoch FROM ts{i} - t1) AS d{i}" for i in range(2, k + 1))
    sql += f""", users AS (
    SELECT DISTINCT ON (uid) uid, value, {levels} AS level, {seconds}
    FROM c{k} ORDER BY uid, level DESC, r1 DESC
)"""
    return sql


def _ranked_values_sql() -> str:
    """Breakdown values ranked by users at the first step (then by value), the 11th on 'other'."""
    return f""", ranked AS (
    SELECT value, row_number() OVER (ORDER BY count(*) DESC, value COLLATE "C" NULLS LAST) AS rank
    FROM users GROUP BY value
), grouped AS (
    SELECT CASE WHEN r.rank <= {BREAKDOWN_TOP} THEN r.rank ELSE {BREAKDOWN_TOP + 1} END AS slot,
           u.value, u.level
    FROM users u JOIN ranked r ON r.value IS NOT DISTINCT FROM u.value
)"""


def compute(funnel: Funnel, scope: Scope, compare: bool = True) -> dict:
    """Per step: users, conversion from the first and the previous step, drop-off, median and
    p90 seconds from the first step; the breakdown; and the previous period beside it."""
    data = _compute(funnel, scope)
    if compare:
        data["previous"] = _compute(funnel, scope.previous())
    return data


def _compute(funnel: Funnel, scope: Scope) -> dict:
    k = len(funnel.steps)
    users, quantiles = _fast(funnel, scope) or _numbers(funnel, scope)
    steps = []
    for i, step in enumerate(funnel.steps):
        steps.append({
            "step": i + 1,
            "eventType": step.event_type,
            "conditions": [str(c) for c in step.conditions],
            "users": users[i],
            "conversionFromFirst": percent(users[i], users[0]),
            "conversionFromPrevious": percent(users[i], users[i - 1]) if i else 100.0
            if users[0] else 0.0,
            "dropOff": users[i - 1] - users[i] if i else 0,
            "medianSeconds": float(quantiles[i][0]) if quantiles[i] else None,
            "p90Seconds": float(quantiles[i][1]) if quantiles[i] else None,
        })
    data = {"steps": steps, "mode": funnel.mode,
            "windowSeconds": int(funnel.window.total_seconds())}
    if funnel.breakdown is not None:
        data["breakdownProperty"] = funnel.breakdown
        data["breakdown"] = _breakdown(funnel, scope, k)
    return data


def _numbers(funnel: Funnel, scope: Scope) -> tuple[list[int], list]:
    """Users at each step and [median, p90] seconds to each later step, from SQL."""
    k = len(funnel.steps)
    params: list = []
    sql = _chain_sql(funnel, scope, params)
    counts = ", ".join(f"count(*) FILTER (WHERE level >= {i})" for i in range(1, k + 1))
    times = ", ".join(f"percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY d{i})"
                      for i in range(2, k + 1))
    (row,) = query(f"{sql} SELECT {counts}, {times} FROM users", params)
    return [int(n) for n in row[:k]], [None, *row[k:]]


def _fast(funnel: Funnel, scope: Scope) -> tuple[list[int], list] | None:
    """The same numbers from the packed days (None when the engine cannot serve it)."""
    if funnel.breakdown is not None or any(step.conditions for step in funnel.steps):
        return None
    events = load.of_scope(scope)
    if events is None:
        return None
    return load.run(engine.funnel, events, tuple(step.event_type for step in funnel.steps),
                    funnel.window, funnel.mode == "strict")


def _breakdown(funnel: Funnel, scope: Scope, k: int) -> list[dict]:
    params: list = []
    sql = _chain_sql(funnel, scope, params) + _ranked_values_sql()
    counts = ", ".join(f"count(*) FILTER (WHERE level >= {i})" for i in range(1, k + 1))
    rows = query(f"{sql} SELECT slot, min(value), {counts} FROM grouped GROUP BY slot "
                 "ORDER BY slot", params)
    return [{"value": None if slot > BREAKDOWN_TOP else value, "other": slot > BREAKDOWN_TOP,
             "steps": [int(n) for n in counts_]}
            for slot, value, *counts_ in rows]
