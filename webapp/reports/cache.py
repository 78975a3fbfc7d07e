"""Report results cached in Redis until a commit changes what they cover.

After every commit the worker counts, per project, one more commit for each UTC day its
events fall in (`touch`), and for each month, year and century those days fall in. A cached
result keeps the counts of the days it depends on (its range and the period compared with
it; for retention, every day before its range's end too, since a user is born at their first
event ever) as they were read before it was computed; it is served while they are unchanged.
So a late event of last Tuesday recomputes the reports that depend on last Tuesday, and
nothing else. Reading the counts before computing errs only one way: a commit that lands in
between makes the next read compute again, never serve a result that misses it.

The days a result depends on are watched through the fewest whole centuries, years, months
and days that make them up (`covered`): at most a few hundred counts, however long the span
(an open end reaches the first or last day of the calendar). A count only grows, and a commit
that touches a day adds one to its month's, year's and century's counts too, so a block's
count is unchanged only while no day in it was touched.

The counts carry an epoch, set when the project's hash is created: were the hash lost (keys
flushed, Redis restored from an older snapshot), counts starting again from zero could match
an old result's; the new epoch never does. Dropping expired partitions counts their days as
touched in every project (`forget`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import orjson
from flask import current_app

from webapp.db import database
from webapp.models import Project
from webapp.store import partitions

TTL_SECONDS = 3600
EPOCH = "epoch"


def key_of(project_id: int, identity: str) -> str:
    return f"pulseboard:report:{project_id}:{hashlib.sha256(identity.encode()).hexdigest()}"


def days_key(project_id: int) -> str:
    # UTC day ("YYYY-MM-DD"), month ("YYYY-MM"), year ("YYYY") and century ("YY") -> commits
    # that touched it
    return f"pulseboard:report-days:{project_id}"


def hours_key(project_id: int) -> str:
    # UTC hour ("YYYY-MM-DDTHH") -> commits that touched it, for the last HOURS_SECONDS
    return f"pulseboard:report-hours:{project_id}"


HOURS_SECONDS = 3 * 86400  # hours are counted for the recent days only (`RECENT_DAYS`)


def touch(pipe, project_id: int, events: Iterable[dict]) -> None:
    """After a commit of `events` (stored form: "ts" is ISO-8601 in UTC): one more commit for
    each day they fall in, and for each hour (`pipe` is a pipeline, which the caller
    executes)."""
    events = list(events)
    key = days_key(project_id)
    pipe.hsetnx(key, EPOCH, time.time_ns())
    days = {event["ts"][:10] for event in events}
    for block in days | {day[:length] for day in days for length in (7, 4, 2)}:
        pipe.hincrby(key, block, 1)
    hours = hours_key(project_id)
    pipe.hsetnx(hours, EPOCH, time.time_ns())
    for hour in {event["ts"][:13] for event in events}:
        pipe.hincrby(hours, hour, 1)
    pipe.expire(hours, HOURS_SECONDS)


def ask_counts(pipe, project_id: int, days: list[str]) -> None:
    """Queue, on `pipe`, the reads of the project's epoch and commit counts for `days` (the
    second reply is [epoch, count per day]); the epoch is set first if the hash is new."""
    pipe.hsetnx(days_key(project_id), EPOCH, time.time_ns())
    pipe.hmget(days_key(project_id), [EPOCH, *days])


def ask_hours(pipe, project_id: int, hours: list[str]) -> None:
    """Queue, on `pipe`, the reads of the epoch and commit counts of `hours` ("YYYY-MM-DDTHH");
    the second reply is [epoch, count per hour]."""
    pipe.hsetnx(hours_key(project_id), EPOCH, time.time_ns())
    pipe.hmget(hours_key(project_id), [EPOCH, *hours])


def forget_all(redis) -> None:
    """Events of unknown days were removed: no cached result of any project stands, nor any
    packed day (`webapp.reports.columns`)."""
    keys = [key for (project_id,) in Project.select(Project.id).tuples()
            for key in (days_key(project_id), hours_key(project_id))]
    if keys:
        redis.delete(*keys)
    database.execute_sql("DELETE FROM report_day")
    database.execute_sql("DELETE FROM report_prop")


def forget(redis, done: dict) -> None:
    """After partition upkeep (`partitions.maintain`): the UTC days of dropped partitions
    count, in every project, as touched by a commit, so the results and packed days that cover
    them are computed again (and nothing else); emptying the default partition, which held rows
    of any older day, forgets everything."""
    if done["emptied"]:
        forget_all(redis)
        return
    days = [day for name in done["dropped"] if (day := partitions.day_of(name)) is not None]
    if not days:
        return
    gone = [{"ts": f"{day.isoformat()}T00:00:00Z"} for day in days]
    pipe = redis.pipeline(transaction=False)
    for (project_id,) in Project.select(Project.id).tuples():
        touch(pipe, project_id, gone)
    pipe.execute()
    database.execute_sql("DELETE FROM report_day WHERE day = ANY(%s)", (days,))
    database.execute_sql("DELETE FROM report_prop WHERE day = ANY(%s)", (days,))


def _blocks(first: date, last: date) -> list[str]:
    """The fewest whole centuries, years, months and days (as their fields) that make up the
    days from `first` to `last`."""
    fields = []
    day = first
    while day <= last:
        text, century = day.isoformat(), day.year // 100 * 100
        for start, end, field in (
                (date(max(century, 1), 1, 1), date(century + 99, 12, 31), text[:2]),
                (date(day.year, 1, 1), date(day.year, 12, 31), text[:4]),
                (day.replace(day=1), _month_end(day), text[:7]),
                (day, day, text)):
            if start == day and end <= last:
                fields.append(field)
                break
        if end == date.max:
            break
        day = end + timedelta(days=1)
    return fields


def _month_end(day: date) -> date:
    if day.month == 12:
        return day.replace(day=31)
    return day.replace(month=day.month + 1, day=1) - timedelta(days=1)


def covered(ranges: Iterable[tuple[datetime | None, datetime | None]]) -> list[str]:
    """The fields of the days' counts that [start, end) ranges depend on (an open start
    reaches back to year 1, an open end on to year 9999), in the fewest whole blocks."""
    fields: set[str] = set()
    for start, end in ranges:
        first = start.astimezone(UTC).date() if start is not None else date.min
        last = (end - timedelta(microseconds=1)).astimezone(UTC).date() if end is not None \
            else date.max
        fields.update(_blocks(first, last))
    return sorted(fields)


def cached(project_id: int, identity: str, compute,
           ranges: Iterable[tuple[datetime | None, datetime | None]] = ((None, None),)
           ) -> tuple[dict, bool]:
    """(the result, whether it came from the cache); `identity` names the report exactly
    (its definition and its scope, with the range resolved to instants), `ranges` are the
    [start, end) periods its events come from."""
    redis = current_app.extensions["redis"]
    key = key_of(project_id, identity)
    fields = covered(ranges)
    try:
        pipe = redis.pipeline(transaction=False)
        ask_counts(pipe, project_id, fields)
        _, counts, entry = pipe.get(key).execute()
    except Exception:  # Redis away: answer from PostgreSQL
        return compute(), False
    stamp = [int(count or 0) for count in counts]
    if entry is not None:
        found = orjson.loads(entry)
        if found["s"] == stamp and found.get("f") == fields:
            return found["data"], True
    data = compute()
    try:
        redis.set(key, orjson.dumps({"f": fields, "s": stamp, "data": data}), ex=TTL_SECONDS)
    except Exception:
        pass  # the answer stands; only the cache missed it
    return data, False
