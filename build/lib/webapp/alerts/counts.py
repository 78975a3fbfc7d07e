"""The counts rules compare: sliding windows and past weeks from the per-minute rollups (one
query per project), property-filtered counts from per-minute tallies kept in Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis import Redis

from webapp.alerts.statistics import BASELINE_WEEKS
from webapp.db import database
from webapp.models import AlertRule

MINUTE = timedelta(minutes=1)
WEEK = timedelta(weeks=1)
HOUR = timedelta(hours=1)
# Whole hours of a range come from the hourly rollups, the minutes either side of them from the
# per-minute ones: a day's window reads at most 23 + 118 rows per type, not 1,440.
RANGES = """
WITH r AS (
    SELECT * FROM unnest(%(ids)s::int[], %(ks)s::int[], %(types)s::text[],
                         %(starts)s::timestamptz[], %(stops)s::timestamptz[], %(hourly)s::bool[])
           AS r(id, k, type, start, stop, hourly)
)
SELECT r.id, r.k, coalesce(sum(m.count), 0)::bigint FROM r
LEFT JOIN event_rollup_minute m
       ON m.project_id = %(project)s AND m.minute >= r.start AND m.minute < r.stop
      AND (r.type IS NULL OR m.event_type = r.type)
WHERE NOT r.hourly GROUP BY r.id, r.k
UNION ALL
SELECT r.id, r.k, coalesce(sum(h.count), 0)::bigint FROM r
LEFT JOIN event_rollup_hour h
       ON h.project_id = %(project)s AND h.hour >= r.start AND h.hour < r.stop
      AND (r.type IS NULL OR h.event_type = r.type)
WHERE r.hourly GROUP BY r.id, r.k
"""


def by_unit(start: datetime, stop: datetime) -> list[tuple[datetime, datetime, bool]]:
    """[start, stop) as (start, stop, hourly) pieces: the whole hours inside it, and the
    minutes before and after them."""
    first = start.replace(minute=0) + (HOUR if start.minute else timedelta(0))
    last = stop.replace(minute=0)
    if last - first < HOUR:
        return [(start, stop, False)]
    pieces = [(first, last, True)]
    if start < first:
        pieces.append((start, first, False))
    if last < stop:
        pieces.append((last, stop, False))
    return pieces


def window(now: datetime, minutes: int) -> tuple[datetime, datetime]:
    """A window of N minutes: the current minute and the N-1 before it (as the dashboard's
    hour is the current minute and the 59 before), on the events' timestamps."""
    stop = now.replace(second=0, microsecond=0) + MINUTE
    return stop - minutes * MINUTE, stop


def ranges(rules: list[AlertRule], now: datetime, born: datetime) -> list[tuple]:
    """(rule id, week offset, type, start, stop) for every range the rules need: a threshold
    rule its window; a spike or drop rule the last hour and the same hour of each past week
    the project already existed in."""
    rows = []
    for rule in rules:
        if rule.kind == "threshold":
            if not rule.property_key:
                rows.append((rule.id, 0, rule.event_type, *window(now, rule.window_minutes)))
            continue
        start, stop = window(now, rule.window_minutes)
        for k in range(BASELINE_WEEKS + 1):
            if k == 0 or start - k * WEEK >= born:
                rows.append((rule.id, k, rule.event_type, start - k * WEEK, stop - k * WEEK))
    return rows


def from_rollups(project_id: int, rows: list[tuple]) -> dict[tuple[int, int], int]:
    """{(rule id, week offset): count} for the ranges, in one query."""
    pieces = [(rule_id, k, kind, *piece) for rule_id, k, kind, start, stop in rows
              for piece in by_unit(start, stop)]
    if not pieces:
        return {}
    ids, ks, types, starts, stops, hourly = (list(column) for column in zip(*pieces,
                                                                            strict=True))
    cursor = database.execute_sql(RANGES, {"ids": ids, "ks": ks, "types": types,
                                           "starts": starts, "stops": stops, "hourly": hourly,
                                           "project": project_id})
    totals: dict[tuple[int, int], int] = {}
    for rule_id, k, count in cursor.fetchall():
        totals[rule_id, k] = totals.get((rule_id, k), 0) + count
    return totals


def tally_key(rule_id: int) -> str:
    """Hash of one property-filtered rule: "YYYY-MM-DDTHH:MM" (UTC) -> matching events."""
    return f"pulseboard:alerts:tally:{rule_id}"


def minute_field(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def from_tallies(redis: Redis, rules: list[AlertRule], now: datetime) -> dict[int, int]:
    """{rule id: count} of property-filtered rules over their windows; minutes that have left
    the window are dropped from the tally as it is read."""
    wanted = [rule for rule in rules if rule.kind == "threshold" and rule.property_key]
    if not wanted:
        return {}
    pipe = redis.pipeline(transaction=False)
    for rule in wanted:
        pipe.hgetall(tally_key(rule.id))
    counts, stale = {}, redis.pipeline(transaction=False)
    for rule, tally in zip(wanted, pipe.execute(), strict=True):
        start, stop = (minute_field(edge) for edge in window(now, rule.window_minutes))
        counts[rule.id] = 0
        for field, value in tally.items():
            minute = field.decode()
            if minute < start:
                stale.hdel(tally_key(rule.id), field)
            elif minute < stop:
                counts[rule.id] += int(value)
    if len(stale):
        stale.execute()
    return counts
