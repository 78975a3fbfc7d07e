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
RANGES = """
SELECT r.id, r.k, coalesce(sum(m.count), 0)::bigint
FROM unnest(%(ids)s::int[], %(ks)s::int[], %(types)s::text[], %(starts)s::timestamptz[],
            %(stops)s::timestamptz[]) AS r(id, k, type, start, stop)
LEFT JOIN event_rollup_minute m
       ON m.project_id = %(project)s AND m.minute >= r.start AND m.minute < r.stop
      AND (r.type IS NULL OR m.event_type = r.type)
GROUP BY r.id, r.k
"""


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
    if not rows:
        return {}
    ids, ks, types, starts, stops = (list(column) for column in zip(*rows, strict=True))
    cursor = database.execute_sql(RANGES, {"ids": ids, "ks": ks, "types": types,
                                           "starts": starts, "stops": stops,
                                           "project": project_id})
    return {(rule_id, k): count for rule_id, k, count in cursor.fetchall()}


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
