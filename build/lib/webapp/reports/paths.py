"""Paths: the most common sequences of events after (or before) a chosen event.

Per user: the first event in the range that matches the anchor (the last one, looking
before); then that user's events in the range from it onwards (back to the first, looking
before), ordered by (timestamp, storage id), with consecutive repeats of a type collapsed into
one, up to `depth` events beside the anchor. Sequences are counted per user; the top 20 are
returned, most users first, then in order of the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.db import database
from webapp.reports import engine
from webapp.reports.columns import load
from webapp.reports.definition import BadReport, Match, Scope, query

MAX_DEPTH = 5
TOP = 20
DIRECTIONS = ("after", "before")


@dataclass(frozen=True)
class Paths:
    anchor: Match
    direction: str = "after"
    depth: int = 3

    def __post_init__(self):
        problems = []
        if self.anchor.event_type is None:
            problems.append("paths start from an event type")
        if self.direction not in DIRECTIONS:
            problems.append(f"direction is one of {', '.join(DIRECTIONS)}")
        if not 1 <= self.depth <= MAX_DEPTH:
            problems.append(f"depth is from 1 to {MAX_DEPTH}")
        if problems:
            raise BadReport(problems)


def compute(paths: Paths, scope: Scope) -> dict:
    found = _fast(paths, scope) or _walks(paths, scope)
    users, walks = found
    return {
        "anchor": paths.anchor.event_type,
        "direction": paths.direction,
        "depth": paths.depth,
        "users": users,
        "paths": [{"events": list(walk), "users": n} for walk, n in walks],
    }


def _fast(paths: Paths, scope: Scope) -> tuple[int, list] | None:
    """Users and top walks from the packed days (None when the engine cannot serve it)."""
    if paths.anchor.conditions:
        return None
    events = load.of_scope(scope)
    if events is None:
        return None
    return load.run(engine.paths, events, paths.anchor.event_type,
                    paths.direction == "after", paths.depth, TOP)


def _walks(paths: Paths, scope: Scope) -> tuple[int, list]:
    """Users and top walks, from SQL."""
    order = "ASC" if paths.direction == "after" else "DESC"
    side = ">=" if paths.direction == "after" else "<="
    params: list = []  # in the order the placeholders appear in the text
    anchor = paths.anchor.sql("e", params)
    where = scope.sql("e", params)
    params.append(paths.depth + 1)
    sql = f"""
WITH ev AS MATERIALIZED (
    SELECT e.user_id, e."timestamp" AS ts, e.id, e.event_type, {anchor} AS is_anchor
    FROM event e WHERE {where}
), anchor AS (
    SELECT DISTINCT ON (user_id) user_id, ts, id FROM ev WHERE is_anchor
    ORDER BY user_id, ts {order}, id {order}
), seq AS (
    SELECT v.user_id, v.event_type, v.ts, v.id,
           lag(v.event_type) OVER (PARTITION BY v.user_id ORDER BY v.ts {order}, v.id {order})
               AS prior
    FROM ev v JOIN anchor a ON a.user_id = v.user_id AND (v.ts, v.id) {side} (a.ts, a.id)
), runs AS (
    SELECT user_id, event_type,
           row_number() OVER (PARTITION BY user_id ORDER BY ts {order}, id {order}) AS pos
    FROM seq WHERE prior IS NULL OR prior <> event_type
), walks AS (
    SELECT user_id, array_agg(event_type ORDER BY pos {order}) AS path
    FROM runs WHERE pos <= %s GROUP BY user_id
)
SELECT path, count(*) FROM walks GROUP BY path
ORDER BY count(*) DESC, path COLLATE "C" LIMIT {TOP}
"""
    rows = query(sql, params)
    count_params: list = []
    users = database.execute_sql(
        f"SELECT count(DISTINCT e.user_id) FROM event e WHERE {scope.sql('e', count_params)} "
        f"AND {paths.anchor.sql('e', count_params)}", count_params).fetchone()[0]
    return int(users), [(tuple(path), int(n)) for path, n in rows]
