"""Packing a UTC day of one project's events into its `report_day` (or `report_prop`) row.

A row holds the day's events sorted by (user, timestamp, storage id) as three packed columns:
user numbers (int64, from `report_user`, one per user of the project), times (int64
microseconds) and type codes (int16 into the row's own list of types); `report_prop` adds each
event's value code of one metadata property. One SQL statement reads and packs the day; NumPy
sorts it. The row keeps the commit count it was built at (`webapp.reports.cache`), so a slow
build never overwrites a fresher one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from webapp.db import database


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of a UTC day and that of the next."""
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


# One statement packs a day: it reads the day's events (one snapshot), numbers the users not
# seen before (their numbers come back through RETURNING, which the statement's own reads do
# not see), codes the types (and a property's values) by their place in the day's sorted
# lists, and returns each column as one byte string: every value in its binary send form
# (big-endian; timestamptz as microseconds since 2000), concatenated by string_agg in the
# same row order. The rows are sorted by NumPy afterwards.
BUILD = """
WITH ev AS MATERIALIZED (
    SELECT e.user_id, e."timestamp", e.id, e.event_type{value}
    FROM event e
    WHERE e.project_id = %(project)s AND e."timestamp" >= %(start)s AND e."timestamp" < %(end)s
), types AS (
    SELECT coalesce(array_agg(event_type ORDER BY event_type), '{{}}') AS list
    FROM (SELECT DISTINCT event_type FROM ev) d
), typed AS (
    SELECT name, i FROM types, unnest(types.list) WITH ORDINALITY AS t (name, i)
), known AS (
    SELECT ev.*, u.no FROM ev
    LEFT JOIN report_user u ON u.project_id = %(project)s AND u.user_id = ev.user_id
), fresh AS (
    INSERT INTO report_user (project_id, user_id)
    SELECT DISTINCT %(project)s, user_id FROM known WHERE no IS NULL
    ON CONFLICT DO NOTHING RETURNING user_id, no
){values}
SELECT (SELECT list FROM types){value_list},
       coalesce(string_agg(int8send(coalesce(k.no, f.no, -1)), ''), ''),
       coalesce(string_agg(timestamptz_send(k."timestamp"), ''), ''),
       coalesce(string_agg(int8send(k.id), ''), ''),
       coalesce(string_agg(int2send((t.i - 1)::int2), ''), ''){value_codes}
FROM known k JOIN typed t ON t.name = k.event_type
LEFT JOIN fresh f ON k.no IS NULL AND f.user_id = k.user_id{value_join}
"""
DAY_BUILD = BUILD.format(value="", values="", value_list="", value_codes="", value_join="")
# a property's values numbered by their place in the day's sorted list (`vals`), and each
# event's number (-1: no value)
VALUED = """), valued AS (
    SELECT value, i FROM vals, unnest(vals.list) WITH ORDINALITY AS t (value, i)
)"""
VALUE_CODES = ",\n       coalesce(string_agg(int4send(coalesce(val.i::int4 - 1, -1)), ''), '')"
PROP_BUILD = BUILD.format(
    value=", e.metadata->>%(prop)s AS v",
    values=""", vals AS (
    SELECT coalesce(array_agg(v ORDER BY v), '{}') AS list
    FROM (SELECT DISTINCT v FROM ev WHERE v IS NOT NULL) d
"""
    + VALUED,
    value_list=", (SELECT list FROM vals)",
    value_codes=VALUE_CODES,
    value_join="\nLEFT JOIN valued val ON val.value = k.v")
BUILD_WORK_MEM = "256MB"
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC in microseconds since 1970


def _run(sql: str, params: dict) -> tuple:
    """One build statement's row, with room for the day in memory (no spill to temporary
    files)."""
    with database.atomic():
        database.execute_sql(f"SET LOCAL work_mem = '{BUILD_WORK_MEM}'")
        return database.execute_sql(sql, params).fetchone()


def _unpack(packed: tuple) -> dict[str, np.ndarray]:
    """A build's packed columns (users, times, storage ids, type codes, and a property's value
    codes when there), as arrays; times in microseconds since 1970."""
    columns = {name: np.frombuffer(value, kind).astype(kind.replace(">", "<"))
               for name, value, kind in zip(("users", "times", "ids", "kinds", "codes"), packed,
                                            (">i8", ">i8", ">i8", ">i2", ">i4"), strict=False)}
    columns["times"] = columns["times"] + PG_EPOCH_US
    return columns


def _build(sql: str, params: dict, lists: int) -> tuple[list, dict[str, np.ndarray]]:
    """Run a build statement (its first `lists` values are lists, then the packed columns)
    until every event has its user's number: a user numbered by a concurrent build in between
    comes out as -1, and the next run reads it."""
    while True:
        row = _run(sql, params)
        columns = _unpack(row[lists:])
        if (columns["users"] >= 0).all():
            return list(row[:lists]), columns


# The common case, in a leaner statement (about half the time): the day's types are read
# first from the hourly rollups (written in the same statement as the events), so the events
# are read as they are joined, not kept aside to list their types (a property's values are
# listed by a scan of their own); users without a number are numbered by a separate statement
# first. Were a type missing from the rollups, the full statement packs the day.
ROLLUP_TYPES = """
SELECT DISTINCT event_type FROM event_rollup_hour
WHERE project_id = %(project)s AND hour >= %(start)s AND hour < %(end)s ORDER BY event_type
"""
LEAN = """{values}
SELECT {value_list}coalesce(string_agg(int8send(coalesce(u.no, -1)), ''), ''),
       coalesce(string_agg(timestamptz_send(e."timestamp"), ''), ''),
       coalesce(string_agg(int8send(e.id), ''), ''),
       coalesce(string_agg(int2send(coalesce(
           array_position(%(names)s::text[], e.event_type::text) - 1, -1)::int2), ''), ''){codes}
FROM event e
LEFT JOIN report_user u ON u.project_id = %(project)s AND u.user_id = e.user_id{value_join}
WHERE e.project_id = %(project)s AND e."timestamp" >= %(start)s AND e."timestamp" < %(end)s
"""
LEAN_DAY = LEAN.format(values="", value_list="", codes="", value_join="")
LEAN_PROP = LEAN.format(
    values="""
WITH vals AS (
    SELECT coalesce(array_agg(v ORDER BY v), '{}') AS list
    FROM (SELECT DISTINCT e.metadata->>%(prop)s AS v FROM event e
          WHERE e.project_id = %(project)s AND e."timestamp" >= %(start)s
            AND e."timestamp" < %(end)s) d
    WHERE v IS NOT NULL
"""
    + VALUED,
    value_list="(SELECT list FROM vals),\n       ",
    codes=VALUE_CODES,
    value_join="\nLEFT JOIN valued val ON val.value = e.metadata->>%(prop)s")
NUMBER_USERS = """
INSERT INTO report_user (project_id, user_id)
SELECT DISTINCT %(project)s, e.user_id FROM event e
WHERE e.project_id = %(project)s AND e."timestamp" >= %(start)s AND e."timestamp" < %(end)s
  AND NOT EXISTS (SELECT 1 FROM report_user u
                  WHERE u.project_id = %(project)s AND u.user_id = e.user_id)
ON CONFLICT DO NOTHING
"""


def _lean(sql: str, params: dict, lists: int) -> tuple[list, dict[str, np.ndarray]] | None:
    """A day's types (then its other `lists`) and packed columns by a leaner statement
    (`LEAN_DAY`, `LEAN_PROP`); None when the rollups lack one of its types."""
    types = [name for (name,) in database.execute_sql(ROLLUP_TYPES, params).fetchall()]
    for _ in range(3):  # users numbered in between by a concurrent build come out as -1
        row = _run(sql, {**params, "names": types})
        columns = _unpack(row[lists:])
        if (columns["kinds"] < 0).any():
            return None
        if (columns["users"] >= 0).all():
            break
        database.execute_sql(NUMBER_USERS, params)
    else:
        return None
    # only the types the day's events have, as the full statement lists them
    used = np.flatnonzero(np.bincount(columns["kinds"], minlength=len(types)))
    recode = np.full(len(types), -1, np.int16)
    recode[used] = np.arange(len(used))
    columns["kinds"] = recode[columns["kinds"]]
    return [[types[i] for i in used], *row[:lists]], columns


def pack_day(project_id: int, start: datetime, end: datetime) -> tuple:
    """A project's events in [start, end) as (names, users, times, kinds), sorted by user,
    time and storage id."""
    params = {"project": project_id, "start": start, "end": end}
    (names,), c = _lean(LEAN_DAY, params, 0) or _build(DAY_BUILD, params, 1)
    order = np.lexsort((c["ids"], c["times"], c["users"]))
    return tuple(names), c["users"][order], c["times"][order], c["kinds"][order]


def pack_prop(project_id: int, start: datetime, end: datetime, prop: str) -> tuple:
    """A project's events in [start, end) with their value of one metadata property, as
    (names, values, users, times, kinds, codes; -1: no value), in no particular order."""
    params = {"project": project_id, "start": start, "end": end, "prop": prop}
    (names, values), c = _lean(LEAN_PROP, params, 1) or _build(PROP_BUILD, params, 2)
    return tuple(names), tuple(values), c["users"], c["times"], c["kinds"], c["codes"]


def build_day(project_id: int, day: date, epoch: int, commits: int) -> None:
    """Pack one day of one project's events into its `report_day` row, sorted by user, time
    and storage id."""
    names, users, times, kinds = pack_day(project_id, *day_bounds(day))
    _store("report_day", {"project_id": project_id, "day": day},
           {"epoch": epoch, "commits": commits, "events": len(users), "names": list(names),
            "users": users.tobytes(), "times": times.tobytes(), "kinds": kinds.tobytes()})


def build_prop(project_id: int, day: date, prop: str, epoch: int, commits: int) -> None:
    """Pack one day's events with their value of one metadata property (-1: none) into its
    `report_prop` row."""
    names, values, users, times, kinds, codes = pack_prop(project_id, *day_bounds(day), prop)
    _store("report_prop", {"project_id": project_id, "day": day, "prop": prop},
           {"epoch": epoch, "commits": commits, "events": len(users), "names": list(names),
            '"values"': list(values), "users": users.tobytes(), "times": times.tobytes(),
            "kinds": kinds.tobytes(), "codes": codes.tobytes()})


def _store(table: str, key: dict, columns: dict) -> None:
    """Insert or replace a packed row, unless the row there is from a newer build (a later
    epoch or more commits): a slow build never overwrites a fresher one."""
    names = [*key, *columns]
    database.execute_sql(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        f"{', '.join(f'{c} = EXCLUDED.{c}' for c in columns)} "
        f"WHERE ({table}.epoch, {table}.commits) <= (EXCLUDED.epoch, EXCLUDED.commits)",
        (*key.values(), *columns.values()))
