"""A plain-Python model of trends, over a list of stored events: labels of local time, lists
and rational arithmetic, nothing shared with the engine but the final formatting of a number
(`numbers.shown` and `numbers.to_json`)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from zoneinfo import ZoneInfo

from tests.integration.reports.model import matches, text
from webapp.reports import numbers

NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d{1,2})?")


def as_number(value: str | None) -> Decimal | None:
    if value is None or len(value) > 50 or not NUMBER.fullmatch(value):
        return None
    return Decimal(value)


def label(moment: datetime, interval: str, zone: str):
    local = moment.astimezone(ZoneInfo(zone))
    if interval == "minute":
        return local.replace(second=0, microsecond=0, tzinfo=None), local.utcoffset()
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0, tzinfo=None), local.utcoffset()
    day = local.date()
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def bucket_labels(start: datetime, end: datetime, interval: str, zone: str) -> list:
    """Every label of [start, end), in order: read at `start` and at each whole UTC minute
    after it (offsets change on whole minutes)."""
    labels, moment = [], start
    while moment < end:
        found = label(moment, interval, zone)
        if not labels or labels[-1] != found:
            labels.append(found)
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return labels


def shift(moment: datetime, zone: str, days: int = 0, years: int = 0) -> datetime:
    tz = ZoneInfo(zone)
    wall = moment.astimezone(tz).replace(tzinfo=None)
    if years:
        try:
            wall = wall.replace(year=wall.year - years)
        except ValueError:
            wall = wall.replace(year=wall.year - years, day=28)
    return (wall - timedelta(days=days)).replace(tzinfo=tz).astimezone(UTC)


def compared(mode: str, start: datetime, end: datetime, zone: str):
    if mode == "previous":
        return start - (end - start), start
    if mode == "week":
        return shift(start, zone, days=7), shift(end, zone, days=7)
    return shift(start, zone, years=1), shift(end, zone, years=1)


def disc(values: list, fraction: float):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(name: str, prop: str | None, rows: list) -> object:
    """The measure over some events (rows), exact."""
    if name == "events":
        return len(rows)
    if name == "users":
        return len({r.user for r in rows})
    if name == "per_user":
        users = len({r.user for r in rows})
        return Fraction(len(rows), users) if users else None
    if name == "distinct":
        return len({v for r in rows if (v := text(r.meta, prop)) is not None})
    found = [n for r in rows if (n := as_number(text(r.meta, prop))) is not None]
    if name == "sum":
        with localcontext(prec=500):  # exact for every number the tests write
            return sum(found, Decimal(0))
    if not found:
        return None
    if name == "avg":
        return Fraction(sum(Fraction(n) for n in found)) / len(found)
    if name == "min":
        return min(found)
    if name == "max":
        return max(found)
    return disc(found, 0.5 if name == "median" else 0.9)


def shown(value) -> object:
    return numbers.to_json(numbers.shown(value))


def series_values(series, trend, rows, start, end, zone, interval) -> tuple[list, object]:
    """A series' values per bucket (cumulative or not) and its total over [start, end)."""
    labels = bucket_labels(start, end, interval, zone)
    mine = [r for r in rows if start <= r.ts < end and matches(series.events, r)]
    place = {lab: i for i, lab in enumerate(labels)}
    per_bucket = [[] for _ in labels]
    for r in mine:
        per_bucket[place[label(r.ts, interval, zone)]].append(r)
    values = []
    for i in range(len(labels)):
        chosen = [r for b in per_bucket[:i + 1] for r in b] if trend.cumulative else per_bucket[i]
        values.append(measure(series.measure, series.prop, chosen))
    return values, measure(series.measure, series.prop, mine)


def breakdown_lines(series, trend, rows, start, end, zone, interval) -> list[dict]:
    mine = [r for r in rows if start <= r.ts < end and matches(series.events, r)]
    counts: dict = {}
    for r in mine:
        value = text(r.meta, trend.breakdown)
        counts[value] = counts.get(value, 0) + 1
    ranked = sorted(counts, key=lambda v: (-counts[v], v is None, v or ""))[:10]
    lines = []
    for value in ranked:
        chosen = [r for r in rows if text(r.meta, trend.breakdown) == value]
        vals, total = series_values(series, trend, chosen, start, end, zone, interval)
        lines.append({"value": value, "other": False, "values": [shown(v) for v in vals],
                      "total": shown(total)})
    rest = [r for r in rows if text(r.meta, trend.breakdown) not in ranked]
    if any(start <= r.ts < end and matches(series.events, r) for r in rest):
        vals, total = series_values(series, trend, rest, start, end, zone, interval)
        lines.append({"value": None, "other": True, "values": [shown(v) for v in vals],
                      "total": shown(total)})
    return lines


def evaluate(formula, values: dict):
    """`formula` is a function of the letters' exact values; None stays empty, and so does
    a division by zero."""
    if values["A"] is None or values["B"] is None:  # the letters every formula here uses
        return None
    try:
        return formula(**values)
    except ZeroDivisionError:
        return None


def exact(value):
    return None if value is None else Fraction(Decimal(str(value))) if not isinstance(
        value, int) else Fraction(value)


def trend(definition, formula, scope, rows, interval: str) -> dict:
    """What the trend report answers (its numbers), from the model."""
    zone = scope.time_zone
    out = {"series": [], "formula": None, "compare": None}
    ranges = [(scope.start, scope.end)]
    if definition.compare:
        ranges.append(compared(definition.compare, scope.start, scope.end, zone))
    results = []
    for start, end in ranges:
        result = {}
        for series in definition.series:
            values, total = series_values(series, definition, rows, start, end, zone, interval)
            result[series.letter] = ([shown(v) for v in values], shown(total))
        results.append(result)
    for index, result in enumerate(results):
        combined = None
        if formula is not None:
            width = len(next(iter(result.values()))[0])
            combined = {
                "values": [shown(evaluate(formula, {k: exact(v[0][i]) for k, v in
                                                    result.items()})) for i in range(width)],
                "total": shown(evaluate(formula, {k: exact(v[1]) for k, v in result.items()}))}
        if index == 0:
            out["series"] = [{"letter": k, "values": v[0], "total": v[1]}
                             for k, v in result.items()]
            out["formula"] = combined
        else:
            out["compare"] = {"series": [{"letter": k, "values": v[0], "total": v[1]}
                                         for k, v in result.items()],
                              "formula": combined}
    if definition.breakdown:
        series = next(s for s in definition.series if s.letter == definition.breakdown_series)
        out["breakdown"] = breakdown_lines(series, definition, rows, scope.start, scope.end,
                                           zone, interval)
    out["buckets"] = len(bucket_labels(scope.start, scope.end, interval, zone))
    return out
