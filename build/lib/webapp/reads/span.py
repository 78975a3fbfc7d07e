"""Statistics over any range (`from`/`to`) in the project's time zone, with hour, day or week
buckets and the previous period beside it.

Rollups are per UTC minute, and every zone in use today is offset from UTC by a whole number of
minutes, so each rollup minute lies wholly inside one local hour, day or week: summing minutes
is exact for any zone, DST change or not (Asia/Kolkata +05:30, Asia/Kathmandu +05:45,
Australia/Lord_Howe's 30-minute DST). Hourly rollups serve when the zone's offsets over the
range are whole hours and the range starts and ends on whole hours. Ranges that do not start
and end on whole minutes, and property filters, are counted from the events themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from webapp.db import database
from webapp.models import iso
from webapp.reads import filters, ranges
from webapp.reads.filters import Condition
from webapp.reads.ranges import local_date

BUCKETS = ("hour", "day", "week")


def bucket_for(start: datetime, end: datetime, requested: str | None) -> str:
    if requested:
        return requested
    length = end - start
    return "hour" if length <= timedelta(days=3) else "day" if length <= timedelta(days=92) \
        else "week"


def whole_hours(zone: str, start: datetime, end: datetime) -> bool:
    """The zone's offset is a whole number of hours at every day's start in the range, and
    the range starts and ends on whole UTC hours."""
    if start.minute or start.second or start.microsecond or end.minute or end.second or \
            end.microsecond:
        return False
    tz, moment = ZoneInfo(zone), start
    while moment <= end:
        if moment.astimezone(tz).utcoffset().total_seconds() % 3600:
            return False
        moment += timedelta(hours=12)
    return end.astimezone(tz).utcoffset().total_seconds() % 3600 == 0


def _source(zone: str, start: datetime, end: datetime, where: tuple[Condition, ...],
            params: list) -> tuple[str, str, str]:
    """(FROM ... WHERE ..., time column, count expression) of the cheapest exact source."""
    whole_minutes = not (start.second or start.microsecond or end.second or end.microsecond)
    if not where and whole_minutes:
        table, column = ("event_rollup_hour", "hour") if whole_hours(zone, start, end) \
            else ("event_rollup_minute", "minute")
        params.extend((start, end))
        return (f"FROM {table} e WHERE e.project_id = %s AND e.{column} >= %s "
                f"AND e.{column} < %s", f"e.{column}", "sum(e.count)")
    params.extend((start, end))
    clause = filters.sql(where, "e", params)
    return ('FROM event e WHERE e.project_id = %s AND e."timestamp" >= %s '
            f'AND e."timestamp" < %s AND {clause}', 'e."timestamp"', "count(*)")


def _key_sql(bucket: str, column: str) -> str:
    local = f"({column} AT TIME ZONE %s)"
    # hours (23 or 25 of them on DST days): the instant of the local hour's minute 0, which
    # names the hour even where a change of offset skips that minute (see hour_start)
    if bucket == "hour":
        return (f"extract(epoch FROM date_trunc('minute', {column}) - "
                f"make_interval(mins => extract(minute FROM {local})::int))::bigint")
    if bucket == "day":
        return f"{local}::date"
    return f"date_trunc('week', {local})::date"


def hour_key(moment: datetime, tz: ZoneInfo) -> int:
    """The key of the local hour holding `moment` (a whole minute), as the SQL computes it."""
    return int((moment - timedelta(minutes=moment.astimezone(tz).minute)).timestamp())


def bucket_keys(bucket: str, zone: str, start: datetime, end: datetime) -> list:
    """Every bucket of the range, in order: epoch seconds (hours) or local dates."""
    if bucket == "hour":
        tz, keys = ZoneInfo(zone), []
        moment = start.replace(second=0, microsecond=0) - timedelta(minutes=start.minute % 15)
        while moment < end:
            key = hour_key(moment, tz)
            if not keys or keys[-1] != key:
                keys.append(key)
            moment += timedelta(minutes=15)
        return keys
    first, last = local_date(start, zone), local_date(end - timedelta(microseconds=1), zone)
    if bucket == "week":
        first -= timedelta(days=first.weekday())
    step = 1 if bucket == "day" else 7
    # counted, not stepped past `last`: the week after 9999-12-27 has no Monday
    return [first + timedelta(days=step * i) for i in range((last - first).days // step + 1)]


def hour_start(key: int, tz: ZoneInfo) -> datetime:
    """The first instant of the local hour `key` names. The key is the instant its local
    minute 0 would be, which a change of offset by a part of an hour may skip: on 2026-10-04
    Australia/Lord_Howe goes from 02:00+10:30 to 02:30+11:00 (15:30Z), so that local hour
    (key 15:00Z, an instant of the hour before) starts at 15:30Z."""
    moment = datetime.fromtimestamp(key, UTC)
    for minutes in range(60):
        candidate = moment + timedelta(minutes=minutes)
        if hour_key(candidate, tz) == key:
            return candidate
    return moment


def label(key, bucket: str, zone: str) -> dict:
    """A bucket's start: an instant and its local time (hours), or a local date."""
    if bucket == "hour":
        tz = ZoneInfo(zone)
        moment = hour_start(key, tz)
        return {"timestamp": iso(moment),
                "local": moment.astimezone(tz).isoformat(timespec="minutes")}
    return {"timestamp": key.isoformat(), "local": key.isoformat()}


def compute(project_id: int, start: datetime, end: datetime, zone: str,
            bucket: str | None = None, where: tuple[Condition, ...] = (),
            compare: bool = True) -> dict:
    bucket = bucket_for(start, end, bucket)
    params: list = [zone, project_id]
    source, column, count = _source(zone, start, end, where, params)
    rows = database.execute_sql(
        f"SELECT {_key_sql(bucket, column)} AS k, e.event_type, {count} {source} GROUP BY 1, 2",
        params).fetchall()
    series: dict = {}
    counts: dict[str, int] = {}
    for key, kind, n in rows:
        series[key] = series.get(key, 0) + int(n)
        counts[kind] = counts.get(kind, 0) + int(n)
    user_params: list = [project_id, start, end]
    clause = filters.sql(where, "e", user_params)
    users = database.execute_sql(
        'SELECT count(DISTINCT e.user_id) FROM event e WHERE e.project_id = %s AND '
        f'e."timestamp" >= %s AND e."timestamp" < %s AND {clause}', user_params).fetchone()[0]
    total = sum(counts.values())
    data = {
        "totalEvents": total,
        "uniqueUsers": int(users),
        "statistics": dict(sorted(counts.items())),
        "topEventTypes": [{"type": t, "count": n, "percentage": round(100 * n / total, 2)}
                          for t, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:5]],
        "series": [{**label(key, bucket, zone), "count": series.get(key, 0)}
                   for key in bucket_keys(bucket, zone, start, end)],
        "bucket": bucket,
        "from": iso(start),
        "to": iso(end),
        "timeZone": zone,
        "where": [str(c) for c in where],
    }
    if compare:
        previous = compute(project_id, *ranges.previous(start, end), zone, bucket, where, False)
        data["previous"] = {k: previous[k] for k in ("totalEvents", "uniqueUsers", "from", "to")}
    return data
