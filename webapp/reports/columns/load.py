"""A report's events read from the packed days, each day (re)built first when out of date.

Loading a month is one read of about 18 bytes an event (`build` packs each UTC day of a project
into a `report_day` row, sorted by user, time and storage id), and the month's days,
concatenated in order, are sorted by user with one stable merge of already sorted runs
(`memory`).

A day's row is built on first use, from `event`, and keeps the day's commit count (with the
counts' epoch) from the report cache's hash (`webapp.reports.cache`) as read before building:
it is used while that count is unchanged, and rebuilt after any commit that touched the day.
A day that no commit touched since the hash began is built once and then kept, like one
whose count stands. A dropped partition counts as a commit on its day; emptying the default
partition forgets the hash, so every day is rebuilt. Today and yesterday, out of date, are
not rebuilt: they are read an hour at a time (`hours`), so live traffic costs one hour's pack,
not a day's. Only days that hold events (from the hourly rollups) are ever built: a range of
empty days costs one query. `report_prop` holds the
same days with each event's value of one metadata property, for breakdowns: only days on which
some event has a value of it (the others are read from `report_day`).

The workers, which compute the long reports, keep the days they read in memory
(`memory.MEMORY`); a web process computes only reports over few enough events to answer within
its time limit.

The module is about 370 lines: refreshing, fetching and the loaders for each kind of report read
the same rows under the same rules, and read best side by side.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

import numpy as np
from flask import current_app

from webapp.db import database
from webapp.reports import cache
from webapp.reports.columns import hours, memory
from webapp.reports.columns.build import build_day, build_prop, day_bounds
from webapp.reports.definition import TIME_LIMIT, TooSlow, query
from webapp.reports.events import Events, instant_us, within

ENABLED: ContextVar[bool] = ContextVar("report_columns", default=True)
# Within a time limit, a report over more events than this many per millisecond of it (counted
# from the hourly rollups) goes to the workers at once: reading, merging and the passes of a
# report run at about 3-4M events a second on one core of the development machine.
INLINE_EVENTS_PER_MS = 3000


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
             prop: str | None = None, only: list[date] | None = None
             ) -> tuple[list[date], list[date]] | None:
    """Build the days from `first` to `last` (or, given `only`, those days) whose row in
    `table` is missing or out of date. Only days that hold events (or a row, whose events may
    have gone since) are looked at: empty days cost nothing. For `report_prop`, a day on
    which no event has a value of the property keeps no row (its events come from
    `report_day`, without values): those days are returned first, [] for `report_day`. Out
    of date days among the last RECENT_DAYS are not built: they are read hour by hour
    (`hours.chunks`) and returned second. None when the commit counts cannot be read (Redis
    away). Within a time limit (`definition.time_limit`), TooSlow once building outlasts it
    (the days built so far are kept for the next try)."""
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
    recent = datetime.now(UTC).date() - timedelta(days=hours.RECENT_DAYS - 1)
    hourly = sorted(day for day in stale if day >= recent)
    stale = {day: count for day, count in stale.items() if day < recent}
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
    return valueless, hourly


DAY_FIELDS = ("names", "users", "times", "kinds")
PROP_FIELDS = ("names", '"values"', "users", "times", "kinds", "codes")
LAYOUT = {"names": None, '"values"': None, "users": "<i8", "times": "<i8", "kinds": "<i2",
          "codes": "<i4"}


def _fetch(table: str, fields: tuple[str, ...], project_id: int, first: date, last: date,
           prop: str | None = None, only: list[date] | None = None,
           hourly: list[date] = ()) -> list[tuple[tuple, tuple]] | None:
    """The packed days from `first` to `last` (of them, those in `only`, when given) that hold
    events, in order, each as (its key in `memory.MEMORY`, its `fields`: lists of names as tuples,
    byte strings as arrays): from this process's memory when it holds the same build of the
    day, else from PostgreSQL. The `hourly` days come an hour at a time (`hours.chunks`),
    in their place; None when Redis is away for them."""
    where, params = _rows_of(project_id, first, last, prop)
    where += " AND events > 0"
    if hourly:
        where, params = where + " AND day <> ALL(%s)", (*params, list(hourly))
    if only is not None:
        where, params = where + " AND day = ANY(%s)", (*params, only)
    stamps = database.execute_sql(f"SELECT day, epoch, commits FROM {table} WHERE {where}",
                                  params).fetchall()
    keys = {day: (table, project_id, prop, day, epoch, commits) for day, epoch, commits in stamps}
    found = {day: memory.MEMORY.get(key) for day, key in keys.items()}
    missing = [day for day, value in found.items() if value is None]
    if missing:
        rows = database.execute_sql(
            f"SELECT day, epoch, commits, {', '.join(fields)} FROM {table} "
            f"WHERE {where} AND day = ANY(%s)", (*params, missing)).fetchall()
        for day, epoch, commits, *values in rows:
            value = tuple(tuple(v) if LAYOUT[f] is None else np.frombuffer(v, LAYOUT[f])
                          for f, v in zip(fields, values, strict=True))
            keys[day] = (table, project_id, prop, day, epoch, commits)
            memory.MEMORY.put(keys[day], value)
            found[day] = value
    rows = [(day, [(keys[day], found[day])]) for day in found if found[day] is not None]
    for day in hourly:
        chunks = hours.chunks(table, project_id, day, prop)
        if chunks is None:
            return None
        rows.append((day, chunks))
    return [chunk for _, chunks in sorted(rows, key=lambda row: row[0]) for chunk in chunks]


def events_between(project_id: int, start: datetime, end: datetime) -> int:
    """The project's events in the UTC days that [start, end) touches (from the rollups)."""
    return _events(project_id, *utc_days(start, end))


def _events(project_id: int, first: date, last: date) -> int:
    """The project's events in the UTC days `first` to `last`, from the hourly rollups (exact,
    and written in the same statement as the events), whether or not the days are packed."""
    (count,) = database.execute_sql(
        "SELECT coalesce(sum(count), 0) FROM event_rollup_hour "
        "WHERE project_id = %s AND hour >= %s AND hour <= %s",
        (project_id, day_bounds(first)[0], datetime.combine(last, time(23), UTC))).fetchone()
    return int(count)


def _days(project_id: int, first: date, last: date) -> list[tuple[tuple, tuple]] | None:
    """The packed days (and recent hours) of `report_day` from `first` to `last`, out of date
    ones built first; None when Redis is away."""
    refreshed = _refresh("report_day", project_id, first, last, build_day)
    if refreshed is None:
        return None
    return _fetch("report_day", DAY_FIELDS, project_id, first, last, hourly=refreshed[1])


def load(project_id: int, first: date, last: date) -> Events | None:
    """The project's events of the UTC days `first` to `last`, sorted by user, time and
    storage id (days out of date are built first); None when Redis is away (the caller asks
    PostgreSQL instead)."""
    rows = _days(project_id, first, last)
    return None if rows is None else memory.merge_kept(rows)


def days_of(project_id: int, first: date, last: date) -> list[tuple] | None:
    """The packed days from `first` to `last` as they are (names, users, times, kinds), each
    sorted by user but not merged: for reports that need no order (trends). None when Redis
    is away."""
    rows = _days(project_id, first, last)
    return None if rows is None else [value for _, value in rows]


def prop_days(project_id: int, first: date, last: date, prop: str
              ) -> list[tuple[tuple, tuple]] | None:
    """The packed days from `first` to `last` with each event's value code of `prop`, as they
    are: (key, (names, values, users, times, kinds, codes)), each day (or recent hour) coded
    by its own lists (days out of date are built first); None when Redis is away. Days on
    which no event has a value of `prop` come from `report_day` (codes -1), so a property
    that no event has (a mistyped name) adds no row."""
    refreshed = _refresh("report_prop", project_id, first, last, build_prop, prop)
    if refreshed is None:
        return None
    valueless, hourly = refreshed
    rows = _fetch("report_prop", PROP_FIELDS, project_id, first, last, prop, hourly=hourly)
    if rows is None:
        return None
    valueless = sorted(set(valueless) - {key[3] for key, _ in rows})
    if valueless:
        refreshed = _refresh("report_day", project_id, first, last, build_day, only=valueless)
        if refreshed is None:
            return None
        days = _fetch("report_day", DAY_FIELDS, project_id, first, last, only=valueless)
        for key, (names, users, times, kinds) in days or ():
            rows.append((key, (names, (), users, times, kinds,
                               np.full(len(users), -1, np.int32))))
    return rows


def load_prop(project_id: int, first: date, last: date, prop: str) -> Prop | None:
    """The events of the UTC days `first` to `last` with their value of `prop` (`prop_days`,
    coded by one list of all their values), in no particular order; None when Redis is away."""
    fetched = prop_days(project_id, first, last, prop)
    if fetched is None:
        return None
    rows = [value for _, value in fetched]
    names, kinds = memory.recode([row[0] for row in rows], [row[4] for row in rows], np.int16)
    values, codes = memory.recode([row[1] for row in rows], [row[5] for row in rows], np.int32)
    return Prop(np.concatenate([np.empty(0, np.int64), *(row[2] for row in rows)]),
                np.concatenate([np.empty(0, np.int64), *(row[3] for row in rows)]),
                kinds, codes, names, values)


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


def days_of_scope(scope) -> list[tuple] | None:
    """The packed days of a report's scope, unmerged (`days_of`); their events may reach past
    the scope's instants on its first and last days. None when the engine cannot serve it."""
    if not _servable(scope):
        return None
    return days_of(scope.project_id, *utc_days(scope.start, scope.end))


def prop_days_of_scope(scope, prop: str) -> list[tuple[tuple, tuple]] | None:
    """The packed days of a report's scope with their values of `prop`, each coded by its own
    lists (`prop_days`); their events may reach past the scope's instants on its first and
    last days. None when the engine cannot serve it."""
    if not _servable(scope):
        return None
    return prop_days(scope.project_id, *utc_days(scope.start, scope.end), prop)


def of_scope_prop(scope, prop: str) -> Prop | None:
    """The events of a report's scope with their value of `prop` (None when the engine cannot
    serve it, as for `of_scope`)."""
    if not _servable(scope):
        return None
    found = load_prop(scope.project_id, *utc_days(scope.start, scope.end), prop)
    if found is None:
        return None
    return found.where(within(found.times, instant_us(scope.start), instant_us(scope.end)))
