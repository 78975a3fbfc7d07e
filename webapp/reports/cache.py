"""Report results cached in Redis until a commit changes what they cover.

After every commit the worker counts, per project, one more commit for each UTC day its
events fall in (`touch`). A cached result keeps the counts of the days it covers (its range and
the period compared with it) as they were read before it was computed; it is served while they
are unchanged. So a late event of last Tuesday recomputes the reports that cover last
Tuesday, and nothing else. Reading the counts before computing errs only one way: a commit
that lands in between makes the next read compute again, never serve a result that misses it.

The counts carry an epoch, set when the project's hash is created: were the hash lost (keys
flushed, Redis restored from an older snapshot), counts starting again from zero could match
an old result's; the new epoch never does. Dropping expired partitions counts their days as
touched in every project (`forget`). A report with an open-ended range depends on every day: it
keeps the count of all commits (`ALL`) instead.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import orjson
from flask import current_app

from webapp.db import database
from webapp.models import Project
from webapp.store import partitions

TTL_SECONDS = 3600
EPOCH, ALL = "epoch", "all"
MAX_DAYS = 800  # a range covering more days than this is watched through ALL


def key_of(project_id: int, identity: str) -> str:
    return f"pulseboard:report:{project_id}:{hashlib.sha256(identity.encode()).hexdigest()}"


def days_key(project_id: int) -> str:
    return f"pulseboard:report-days:{project_id}"  # UTC day -> commits that touched it


def touch(pipe, project_id: int, events: Iterable[dict]) -> None:
    """After a commit of `events` (stored form: "ts" is ISO-8601 in UTC): one more commit for
    each day they fall in (`pipe` is a pipeline, which the caller executes)."""
    key = days_key(project_id)
    pipe.hsetnx(key, EPOCH, time.time_ns())
    for day in {event["ts"][:10] for event in events}:
        pipe.hincrby(key, day, 1)
    pipe.hincrby(key, ALL, 1)


def ask_counts(pipe, project_id: int, days: list[str]) -> None:
    """Queue, on `pipe`, the reads of the project's epoch and commit counts for `days` (the
    second reply is [epoch, count per day]); the epoch is set first if the hash is new."""
    pipe.hsetnx(days_key(project_id), EPOCH, time.time_ns())
    pipe.hmget(days_key(project_id), [EPOCH, *days])


def forget_all(redis) -> None:
    """Events of unknown days were removed: no cached result of any project stands, nor any
    packed day (`webapp.reports.columns`)."""
    keys = [days_key(project_id) for (project_id,) in Project.select(Project.id).tuples()]
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


def covered_days(ranges: Iterable[tuple[datetime | None, datetime | None]]) -> list[str]:
    """The UTC days (as "YYYY-MM-DD") that [start, end) ranges touch; [ALL] when one is
    open-ended or too long to list."""
    days: set[str] = set()
    for start, end in ranges:
        if start is None or end is None:
            return [ALL]
        first = start.astimezone(UTC).date()
        last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
        if (last - first).days >= MAX_DAYS:
            return [ALL]
        day = first
        while day <= last:
            days.add(day.isoformat())
            day += timedelta(days=1)
    return sorted(days)


def cached(project_id: int, identity: str, compute,
           ranges: Iterable[tuple[datetime | None, datetime | None]] = ((None, None),)
           ) -> tuple[dict, bool]:
    """(the result, whether it came from the cache); `identity` names the report exactly
    (its definition and its scope, with the range resolved to instants), `ranges` are the
    [start, end) periods its events come from."""
    redis = current_app.extensions["redis"]
    key = key_of(project_id, identity)
    try:
        pipe = redis.pipeline(transaction=False)
        ask_counts(pipe, project_id, covered_days(ranges))
        _, counts, entry = pipe.get(key).execute()
    except Exception:  # Redis away: answer from PostgreSQL
        return compute(), False
    stamp = [int(count or 0) for count in counts]
    if entry is not None:
        found = orjson.loads(entry)
        if found["s"] == stamp:
            return found["data"], True
    data = compute()
    try:
        redis.set(key, orjson.dumps({"s": stamp, "data": data}), ex=TTL_SECONDS)
    except Exception:
        pass  # the answer stands; only the cache missed it
    return data, False
