"""Each UTC day's events as three packed columns, kept in PostgreSQL for the report engine.

A row of `report_day` holds one project's events of one UTC day, sorted by (user, timestamp,
storage id): user numbers (int64, from `report_user`, one per user of the project), times
(int64 microseconds) and type codes (int16 into the row's own list of types). Loading a month
is then one read of about 18 bytes an event, and the month's days, concatenated in order, are
sorted by user with one stable merge of already sorted runs.

A day's row is built on first use, from `event`, and keeps the day's commit count (with the
counts' epoch) from the report cache's hash (`webapp.reports.cache`) as read before building:
it is used while that count is unchanged, and rebuilt after any commit that touched the day.
A day that no commit touched since the hash began is built once and then kept, like one
whose count stands. A dropped partition counts as a commit on its day; emptying the default
partition forgets the hash, so every day is rebuilt. Only days that hold events (from the
hourly rollups) are ever built: a range of empty days costs one query. `report_prop` holds the
same days with each event's value of one metadata property, for breakdowns: only days on which
some event has a value of it (the others are read from `report_day`).

The workers, which compute the long reports, keep the days they read in memory (`Memory`);
a web process computes only reports over few enough events to answer within its time limit.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

import numpy as np
from flask import current_app

from webapp.db import database
from webapp.reports import cache
from webapp.reports.definition import TIME_LIMIT, TooSlow, query
from webapp.reports.engine import Events, instant_us, within

ENABLED: ContextVar[bool] = ContextVar("report_columns", default=True)
# Within a time limit, a report over more events than this many per millisecond of it (counted
# from the hourly rollups) goes to the workers at once: reading, merging and the passes of a
# report run at about 3-4M events a second on one core of the development machine.
INLINE_EVENTS_PER_MS = 3000


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class Prop:
    """Events with their value of one metadata property: `codes` index `values` (sorted;
    -1 for events without it), `kinds` index `names`."""

    users: np.ndarray
    times: np.ndarray
    kinds: np.ndarray
    codes: np.ndarray
    names: tuple[str, ...]
    values: tuple[str, ...]

    def where(self, keep: np.ndarray | None) -> Prop:
        """The events `keep` marks (all of them for None)."""
        if keep is None:
            return self
        return Prop(self.users[keep], self.times[keep], self.kinds[keep], self.codes[keep],
                    self.names, self.values)


def _stamps(project_id: int, days: list[date]) -> tuple[int, list[int]] | None:
    """The hash's epoch and each day's commit count (None when Redis is away)."""
    try:
        pipe = current_app.extensions["redis"].pipeline(transaction=False)
        cache.ask_counts(pipe, project_id, [d.isoformat() for d in days])
        epoch, *counts = pipe.execute()[1]
    except Exception:
        return None
    return int(epoch), [int(count or 0) for count in counts]


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


def build_day(project_id: int, day: date, epoch: int, commits: int) -> None:
    """Pack one day of one project's events into its `report_day` row, sorted by user, time
    and storage id."""
    start, end = day_bounds(day)
    params = {"project": project_id, "start": start, "end": end}
    (names,), c = _lean(LEAN_DAY, params, 0) or _build(DAY_BUILD, params, 1)
    order = np.lexsort((c["ids"], c["times"], c["users"]))
    _store("report_day", {"project_id": project_id, "day": day},
           {"epoch": epoch, "commits": commits, "events": len(order), "names": names,
            "users": c["users"][order].tobytes(), "times": c["times"][order].tobytes(),
            "kinds": c["kinds"][order].tobytes()})


def build_prop(project_id: int, day: date, prop: str, epoch: int, commits: int) -> None:
    """Pack one day's events with their value of one metadata property (-1: none) into its
    `report_prop` row."""
    start, end = day_bounds(day)
    params = {"project": project_id, "start": start, "end": end, "prop": prop}
    (names, values), c = _lean(LEAN_PROP, params, 1) or _build(PROP_BUILD, params, 2)
    _store("report_prop", {"project_id": project_id, "day": day, "prop": prop},
           {"epoch": epoch, "commits": commits, "events": len(c["users"]), "names": names,
            '"values"': values, "users": c["users"].tobytes(), "times": c["times"].tobytes(),
            "kinds": c["kinds"].tobytes(), "codes": c["codes"].tobytes()})


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


def _rows_of(project_id: int, first: date, last: date, prop: str | None) -> tuple[str, tuple]:
    """The WHERE clause and parameters of a project's packed rows from `first` to `last` (of
    one property's, for `report_prop`)."""
    where, params = "project_id = %s AND day >= %s AND day <= %s", (project_id, first, last)
    if prop is not None:
        where, params = where + " AND prop = %s", (*params, prop)
    return where, params


# The UTC days that hold events, from the hourly rollups (exact, and written in the same
# statement as the events): one index range, however many empty days lie in between.
EVENT_DAYS = """
SELECT DISTINCT (hour AT TIME ZONE 'UTC')::date FROM event_rollup_hour
WHERE project_id = %s AND hour >= %s AND hour <= %s
"""
# Of some days, those on which an event has a value of the property: a subquery per day (with
# LIMIT, so that it is not turned into one join over every partition), which reads only that
# day's partition and stops at the first value.
VALUED_DAYS = """
SELECT d FROM unnest(%s::date[]) AS d
WHERE (SELECT TRUE FROM event e
       WHERE e.project_id = %s AND e."timestamp" >= d::timestamp AT TIME ZONE 'UTC'
         AND e."timestamp" < (d + 1)::timestamp AT TIME ZONE 'UTC'
         AND e.metadata->>%s IS NOT NULL LIMIT 1)
"""


def _event_days(project_id: int, first: date, last: date) -> list[date]:
    last_hour = datetime.combine(last, time(23), UTC)
    return [day for (day,) in database.execute_sql(
        EVENT_DAYS, (project_id, day_bounds(first)[0], last_hour)).fetchall()]


def _refresh(table: str, project_id: int, first: date, last: date, build,
             prop: str | None = None, only: list[date] | None = None) -> list[date] | None:
    """Build the days from `first` to `last` (or, given `only`, those days) whose row in
    `table` is missing or out of date. Only days that hold events (or a row, whose events may
    have gone since) are looked at: empty days cost nothing. For `report_prop`, a day on
    which no event has a value of the property keeps no row (its events come from
    `report_day`, without values): those days are returned, [] for `report_day`. None when
    the commit counts cannot be read (Redis away). Within a time limit
    (`definition.time_limit`), TooSlow once building outlasts it (the days built so far are
    kept for the next try)."""
    limit = TIME_LIMIT.get()
    deadline = monotonic() + limit / 1000 if limit else None
    where, params = _rows_of(project_id, first, last, prop)
    built = dict(database.execute_sql(
        f"SELECT day, ARRAY[epoch, commits] FROM {table} WHERE {where}", params).fetchall())
    if only is None:
        days = sorted(set(_event_days(project_id, first, last)) | set(built))
    else:
        days = sorted(set(only))
    stamps = _stamps(project_id, days)
    if stamps is None:
        return None
    epoch, counts = stamps
    if only is None and limit and _events(project_id, first, last) > limit * INLINE_EVENTS_PER_MS:
        raise TooSlow()  # more events than a report reads within the limit: for the workers
    stale = {day: count for day, count in zip(days, counts, strict=True)
             if built.get(day) != [epoch, count]}
    valueless: list[date] = []
    if prop is not None and stale:
        valued = {day for (day,) in query(VALUED_DAYS, [sorted(stale), project_id, prop])}
        valueless = [day for day in stale if day not in valued]
        gone = [day for day in valueless if day in built]  # values there once, none now
        if gone:
            database.execute_sql(f"DELETE FROM {table} WHERE {where} AND day = ANY(%s)",
                                 (*params, gone))
        stale = {day: count for day, count in stale.items() if day in valued}
    for day, count in stale.items():
        build(project_id, day, *((prop,) if prop is not None else ()), epoch, count)
        if deadline is not None and monotonic() > deadline:
            raise TooSlow()
    return valueless


class Memory:
    """Decoded packed days kept in this process (the workers, which compute the long
    reports), least recently used out first, within a budget of bytes (0: none kept)."""

    def __init__(self):
        self.budget, self.size = 0, 0
        self.items: OrderedDict[tuple, tuple] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: tuple, value: tuple) -> None:
        size = self._size(value)
        if size > self.budget:
            return
        stale = [k for k in self.items if k[:4] == key[:4]]  # older builds of the same day
        for k in stale:
            self.size -= self._size(self.items.pop(k))
        self.items[key] = value
        self.size += size
        self.shrink()

    def shrink(self) -> None:
        """Let the least recently used days go until the rest fit the budget."""
        while self.size > self.budget:
            self.size -= self._size(self.items.popitem(last=False)[1])

    @staticmethod
    def _size(value: tuple) -> int:
        return sum(part.nbytes for part in value if isinstance(part, np.ndarray))


MEMORY = Memory()


def keep_in_memory(megabytes: int) -> None:
    """Let this process keep up to `megabytes` of decoded packed days between reports."""
    MEMORY.budget = megabytes * 2**20
    MEMORY.shrink()


DAY_FIELDS = ("names", "users", "times", "kinds")
PROP_FIELDS = ("names", '"values"', "users", "times", "kinds", "codes")
LAYOUT = {"names": None, '"values"': None, "users": "<i8", "times": "<i8", "kinds": "<i2",
          "codes": "<i4"}


def _fetch(table: str, fields: tuple[str, ...], project_id: int, first: date, last: date,
           prop: str | None = None, only: list[date] | None = None
           ) -> list[tuple[tuple, tuple]]:
    """The packed days from `first` to `last` (of them, those in `only`, when given) that hold
    events, in order, each as (its key in `MEMORY`, its `fields`: lists of names as tuples,
    byte strings as arrays): from this process's memory when it holds the same build of the
    day, else from PostgreSQL."""
    where, params = _rows_of(project_id, first, last, prop)
    where += " AND events > 0"
    if only is not None:
        where, params = where + " AND day = ANY(%s)", (*params, only)
    stamps = database.execute_sql(f"SELECT day, epoch, commits FROM {table} WHERE {where}",
                                  params).fetchall()
    keys = {day: (table, project_id, prop, day, epoch, commits) for day, epoch, commits in stamps}
    found = {day: MEMORY.get(key) for day, key in keys.items()}
    missing = [day for day, value in found.items() if value is None]
    if missing:
        rows = database.execute_sql(
            f"SELECT day, epoch, commits, {', '.join(fields)} FROM {table} "
            f"WHERE {where} AND day = ANY(%s)", (*params, missing)).fetchall()
        for day, epoch, commits, *values in rows:
            value = tuple(tuple(v) if LAYOUT[f] is None else np.frombuffer(v, LAYOUT[f])
                          for f, v in zip(fields, values, strict=True))
            keys[day] = (table, project_id, prop, day, epoch, commits)
            MEMORY.put(keys[day], value)
            found[day] = value
    return [(keys[day], found[day]) for day in sorted(found) if found[day] is not None]


def _events(project_id: int, first: date, last: date) -> int:
    """The project's events in the UTC days `first` to `last`, from the hourly rollups (exact,
    and written in the same statement as the events), whether or not the days are packed."""
    (count,) = database.execute_sql(
        "SELECT coalesce(sum(count), 0) FROM event_rollup_hour "
        "WHERE project_id = %s AND hour >= %s AND hour <= %s",
        (project_id, day_bounds(first)[0], datetime.combine(last, time(23), UTC))).fetchone()
    return int(count)


def load(project_id: int, first: date, last: date) -> Events | None:
    """The project's events of the UTC days `first` to `last`, sorted by user, time and
    storage id (days out of date are built first); None when Redis is away (the caller asks
    PostgreSQL instead)."""
    if _refresh("report_day", project_id, first, last, build_day) is None:
        return None
    return _merge_kept(_fetch("report_day", DAY_FIELDS, project_id, first, last))


def load_prop(project_id: int, first: date, last: date, prop: str) -> Prop | None:
    """The events of the UTC days `first` to `last` with their value of `prop`, in no
    particular order (days out of date are built first); None when Redis is away. Days on
    which no event has a value of `prop` come from `report_day`, so a property that no event
    has (a mistyped name) adds no row."""
    valueless = _refresh("report_prop", project_id, first, last, build_prop, prop)
    if valueless is None:
        return None
    fetched = _fetch("report_prop", PROP_FIELDS, project_id, first, last, prop)
    rows = [value for _, value in fetched]
    valueless = sorted(set(valueless) - {key[3] for key, _ in fetched})
    if valueless:
        if _refresh("report_day", project_id, first, last, build_day, only=valueless) is None:
            return None
        for _, (names, users, times, kinds) in _fetch("report_day", DAY_FIELDS, project_id,
                                                      first, last, only=valueless):
            rows.append((names, (), users, times, kinds, np.full(len(users), -1, np.int32)))
    names, kinds = _recode([row[0] for row in rows], [row[4] for row in rows], np.int16)
    values, codes = _recode([row[1] for row in rows], [row[5] for row in rows], np.int32)
    return Prop(np.concatenate([np.empty(0, np.int64), *(row[2] for row in rows)]),
                np.concatenate([np.empty(0, np.int64), *(row[3] for row in rows)]),
                kinds, codes, names, values)


def _recode(lists: list[tuple[str, ...]], codes: list[np.ndarray], kind
            ) -> tuple[tuple[str, ...], np.ndarray]:
    """Days' codes into their own lists of names, as codes into one sorted list of all the
    names (code -1, no name, stays -1)."""
    names = tuple(sorted({name for day in lists for name in day}))
    index = {name: i for i, name in enumerate(names)}
    recoded = [np.array([index[name] for name in day] + [-1], kind)[day_codes]
               for day, day_codes in zip(lists, codes, strict=True)]  # -1 takes the last: -1
    return names, np.concatenate([np.empty(0, kind), *recoded])


def _merge(rows: list[tuple]) -> Events:
    """Days in order, each sorted by user: one stable sort by user (a merge of sorted runs)
    leaves every user's events in time order."""
    if not rows:
        return Events.empty()
    names, kinds = _recode([row[0] for row in rows], [row[3] for row in rows], np.int16)
    users = np.concatenate([row[1] for row in rows])
    keys = users.astype(np.int32) if users.max() < 2**31 else users  # half the bytes to sort
    order = np.argsort(keys, kind="stable")
    return Events(users[order], np.concatenate([row[2] for row in rows])[order], kinds[order],
                  names)


def _merge_kept(rows: list[tuple[tuple, tuple]]) -> Events:
    """`_merge` of fetched days (key, value), keeping in this process's memory the merge of
    all but the newest day: after a commit to the newest day (live traffic touches today),
    only that day is merged into the kept ones, not the whole range sorted again."""
    size = sum(part.nbytes for _, value in rows[:-1] for part in value[1:])  # of their merge
    if len(rows) < 3 or size > MEMORY.budget:  # it would not be kept: one merge of them all
        return _merge([value for _, value in rows])
    *older, (_, newest) = rows
    first = older[0][0]
    key = ("merged", *first[1:4], tuple(k[3:] for k, _ in older))  # one kept merge a start
    kept = MEMORY.get(key)
    if kept is None:
        base = _merge([value for _, value in older])
        MEMORY.put(key, (base.users, base.times, base.kinds, base.names))
    else:
        base = Events(*kept)
    return _append(base, _merge([newest]))


def _append(base: Events, later: Events) -> Events:
    """Events sorted by user, each user's later than all of theirs in `base`, merged in."""
    names, kinds = base.names, base.kinds
    extra = later.kinds
    if later.names != names:
        names, both = _recode([base.names, later.names], [base.kinds, later.kinds], np.int16)
        kinds, extra = both[:len(base)], both[len(base):]
    at = np.searchsorted(base.users, later.users, side="right")  # after the user's own
    return Events(np.insert(base.users, at, later.users), np.insert(base.times, at, later.times),
                  np.insert(kinds, at, extra), names)


def utc_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last UTC days of [start, end)."""
    return (start.astimezone(UTC).date(),
            (end - timedelta(microseconds=1)).astimezone(UTC).date())


def first_day(project_id: int) -> date | None:
    """The UTC day of the project's earliest stored event."""
    (moment,) = database.execute_sql(
        'SELECT min("timestamp") FROM event WHERE project_id = %s', (project_id,)).fetchone()
    return moment.astimezone(UTC).date() if moment is not None else None


def run(function, *args):
    """Run an engine function. In a gevent web process it runs on a native thread of gevent's
    pool, so the process's other requests and streams go on meanwhile (NumPy releases the GIL
    during its passes over whole arrays)."""
    if "gevent.monkey" in sys.modules and sys.modules["gevent.monkey"].is_module_patched(
            "threading"):
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


@contextmanager
def off():
    """Reports computed in this block ask PostgreSQL (the tests compare both ways)."""
    token = ENABLED.set(False)
    try:
        yield
    finally:
        ENABLED.reset(token)


def _servable(scope) -> bool:
    """Whether the packed days can serve a report's scope: no property filters (the days hold
    no metadata), a bounded range, and the engine not turned off (`off`)."""
    return ENABLED.get() and not scope.filters and None not in (scope.start, scope.end)


def of_scope(scope, history: bool = False) -> Events | None:
    """The events of a report's scope from the packed days (with `history`, every event of the
    project before the scope's end too). None when the engine cannot serve it: property
    filters, an open range, or Redis away."""
    if not _servable(scope):
        return None
    first, last = utc_days(scope.start, scope.end)
    if history:
        first = min(first, first_day(scope.project_id) or first)
    events = load(scope.project_id, first, last)
    if events is None:
        return None
    return events.between(None if history else instant_us(scope.start), instant_us(scope.end))


def of_scope_prop(scope, prop: str) -> Prop | None:
    """The events of a report's scope with their value of `prop` (None when the engine cannot
    serve it, as for `of_scope`)."""
    if not _servable(scope):
        return None
    found = load_prop(scope.project_id, *utc_days(scope.start, scope.end), prop)
    if found is None:
        return None
    return found.where(within(found.times, instant_us(scope.start), instant_us(scope.end)))
