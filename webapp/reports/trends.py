"""Trends: any measure of events over time, for up to five series (A-E), combined by a formula,
compared with an earlier period, cumulative or not, one series broken down by a property.

    A=signup&B=purchase&B.measure=sum&B.property=amount&B.where=metadata.plan=pro
    &formula=B / A&interval=day&compare=previous&breakdown=country&breakdown.series=B

A series is an event type (`*`: every event) with the funnel steps' conditions, and a measure
(`webapp.reports.measures`): events, unique users, events per user, the sum, average, minimum,
maximum, median or 90th percentile of a numeric property (`webapp.reports.numbers` says which
values are numbers), or its distinct values. Buckets are the project's local minutes, hours,
days, weeks or months (`webapp.reports.intervals`); each series also has the range's total
(unique users over the whole range, not the sum of the buckets'). A breakdown draws one line per
top value of a property (by the series' events; no value counts as a value) and one for the rest.

The events come from the packed days (`webapp.reports.columns`) when neither the series nor the
range has property conditions, else from PostgreSQL; both go through the same passes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

import numpy as np

from webapp.models import iso
from webapp.reports import formula as formulas
from webapp.reports import intervals, measures, numbers
from webapp.reports.columns import load
from webapp.reports.definition import TIME_LIMIT, BadReport, Match, Scope, TooSlow, query
from webapp.reports.events import instant_us, within
from webapp.reports.measures import MEASURES, NOT_CUMULATIVE, OF_PROPERTY, Numbers

LETTERS = "ABCDE"
BREAKDOWN_LINES = 10
# Within a time limit (a web process), events a trend reads from PostgreSQL row by row per
# millisecond of the limit before it goes to the workers.
SQL_EVENTS_PER_MS = 300


@dataclass(frozen=True)
class Series:
    letter: str
    events: Match = Match(None)
    measure: str = "events"
    prop: str | None = None

    def describe(self) -> str:
        what = self.events.event_type if self.events.event_type is not None else "every event"
        if self.events.conditions:
            what += " where " + " and ".join(str(c) for c in self.events.conditions)
        measure = MEASURES.get(self.measure, self.measure)
        if self.prop is not None:
            measure += f" of {self.prop}"
        return f"{what}: {measure}"

    def problems(self) -> list[str]:
        found = []
        if self.measure not in MEASURES:
            found.append(f"{self.letter}.measure is one of {', '.join(MEASURES)}")
        elif self.measure in OF_PROPERTY and not self.prop:
            found.append(f"{self.letter}.property names the property to take the "
                         f"{MEASURES[self.measure]} of")
        elif self.measure not in OF_PROPERTY and self.prop:
            found.append(f"{self.letter}.property is for the measures "
                         f"{', '.join(OF_PROPERTY)}, not {self.measure}")
        return found


@dataclass(frozen=True)
class Trend:
    series: tuple[Series, ...]
    interval: str | None = None  # None: chosen by the range's length
    formula: str | None = None
    compare: str | None = None
    breakdown: str | None = None
    breakdown_series: str = "A"
    cumulative: bool = False

    def __post_init__(self):
        problems = []
        if not self.series:
            problems.append("name at least one series: A=signup (A=* for every event)")
        if len(self.series) > len(LETTERS):
            problems.append(f"at most {len(LETTERS)} series")
        for series in self.series:
            problems.extend(series.problems())
        letters = "".join(s.letter for s in self.series)
        if self.formula:
            try:
                formulas.parse(self.formula, letters)
            except formulas.FormulaError as exc:
                problems.append(str(exc))
        if self.interval is not None and self.interval not in intervals.INTERVALS:
            problems.append(f"interval is one of {', '.join(intervals.INTERVALS)}")
        if self.compare is not None and self.compare not in intervals.COMPARE:
            problems.append(f"compare is one of {', '.join(intervals.COMPARE)}")
        if self.breakdown is not None and self.breakdown_series not in letters:
            problems.append(f'"breakdown.series" names no series: use {", ".join(letters)}')
        if self.cumulative:
            problems.extend(f"{s.letter}: a {MEASURES[s.measure]} is not cumulative"
                            for s in self.series if s.measure in NOT_CUMULATIVE)
        if problems:
            raise BadReport(problems)

    def interval_for(self, scope: Scope) -> str:
        return self.interval or intervals.default_interval(scope.start, scope.end)

    def problems_with(self, scope: Scope) -> list[str]:
        """What the range says against this trend (minutes for a day at most, ...)."""
        return intervals.problems_of(self.interval_for(scope), scope.start, scope.end)

    def compared_range(self, scope: Scope) -> tuple[datetime, datetime] | None:
        if self.compare is None:
            return None
        return intervals.compared(self.compare, scope.start, scope.end, scope.time_zone)


# ---- the events of a series -------------------------------------------------------------------

@dataclass
class Columns:
    """A series' events in a range: user numbers, microseconds, and codes of a property's
    values (`values`; -1: none) for the measure (`codes`) and the breakdown (`groups`)."""

    users: np.ndarray
    times: np.ndarray
    slots: np.ndarray | None = None  # each event's bucket, where already known
    codes: np.ndarray | None = None
    values: tuple[str, ...] = ()
    groups: np.ndarray | None = None
    group_values: tuple[str, ...] = ()


class Source:
    """The events of one range, loaded once for every series that reads them."""

    def __init__(self, scope: Scope, starts: np.ndarray):
        self.scope, self.starts = scope, starts  # the buckets' first microseconds
        self.loaded: dict = {}

    def columns(self, series: Series, breakdown: str | None) -> Columns:
        props = tuple(dict.fromkeys(p for p in (series.prop, breakdown) if p))
        packed = None
        if not series.events.conditions and len(props) <= 1:
            packed = self._packed(props[0] if props else None, series.events.event_type)
        if packed is None:
            return self._sql(series, props, breakdown)
        if breakdown is not None:  # the one property loaded: the measure's or the breakdown's
            packed.groups, packed.group_values = packed.codes, packed.values
        return packed

    def _packed(self, prop: str | None, event_type: str | None) -> Columns | None:
        key = ("packed", prop)
        if key not in self.loaded:
            self.loaded[key] = (load.days_of_scope(self.scope) if prop is None
                                else load.of_scope_prop(self.scope, prop))
        found = self.loaded[key]
        if found is None:
            return None
        if prop is not None:
            keep = found.kinds == _code(found.names, event_type) if event_type else None
            if keep is None:
                return Columns(found.users, found.times, None, found.codes, found.values)
            return Columns(found.users[keep], found.times[keep], None, found.codes[keep],
                           found.values)
        start, end = instant_us(self.scope.start), instant_us(self.scope.end)
        users, times = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        slots = [np.empty(0, np.int32)]
        for names, day_users, day_times, kinds in found:
            keep = kinds == _code(names, event_type) if event_type else None
            if keep is not None:
                day_users, day_times = day_users[keep], day_times[keep]
            inside = within(day_times, start, end)
            if inside is not None:
                day_users, day_times = day_users[inside], day_times[inside]
            if len(day_times):
                users.append(day_users)
                times.append(day_times)
                slots.append(self._day_slots(day_times))
        return Columns(np.concatenate(users), np.concatenate(times), np.concatenate(slots))

    def _day_slots(self, times: np.ndarray) -> np.ndarray:
        """The buckets of one packed day's events: a UTC day meets one or two local days (or
        weeks, months), so most days need one comparison, or none."""
        first, last = np.searchsorted(self.starts, [times.min(), times.max()], side="right") - 1
        if first == last:
            return np.full(len(times), first, np.int32)
        inner = self.starts[first + 1:last + 1]
        return (np.searchsorted(inner, times, side="right") + first).astype(np.int32)

    def _sql(self, series: Series, props: tuple[str, ...], breakdown: str | None) -> Columns:
        """The series' events from PostgreSQL (with their properties' values)."""
        scope = self.scope
        limit = TIME_LIMIT.get()
        if limit and load.events_between(scope.project_id, scope.start, scope.end) > \
                limit * SQL_EVENTS_PER_MS:
            raise TooSlow()
        params: list = list(props)
        picks = "".join(", e.metadata->>%s" for _ in props)
        where = scope.sql("e", params) + " AND " + series.events.sql("e", params)
        rows = query(f"""SELECT (extract(epoch FROM e."timestamp") * 1000000)::int8, e.user_id
{picks} FROM event e WHERE {where}""", params)
        times = np.array([row[0] for row in rows], np.int64)
        users = _factorize([row[1] for row in rows])[1]
        coded = [_factorize([row[2 + i] for row in rows], keep_none=True)
                 for i in range(len(props))]
        found = Columns(users, times)
        for prop, (values, codes) in zip(props, coded, strict=True):
            if prop == series.prop:
                found.codes, found.values = codes, values
            if prop == breakdown:
                found.groups, found.group_values = codes, values
        return found


def _code(names: tuple[str, ...], event_type: str) -> int:
    return names.index(event_type) if event_type in names else -1


def _factorize(items: list, keep_none: bool = False) -> tuple[tuple, np.ndarray]:
    """Distinct items (sorted) and each item's code; None is -1 with `keep_none`."""
    distinct = sorted({item for item in items if item is not None})
    index = {item: i for i, item in enumerate(distinct)}
    if keep_none:
        index[None] = -1
    return tuple(distinct), np.array([index[item] for item in items], np.int64)


# ---- computing ------------------------------------------------------------------------------

def _slots(times: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    return np.searchsorted(bounds, times, side="right") - 1


def _measure(series: Series, found: Columns, bounds: np.ndarray, cumulative: bool,
             table: Numbers | None) -> tuple[list, object]:
    slot = found.slots if found.slots is not None else _slots(found.times, bounds)
    values = measures.compute(series.measure, slot, (1, len(bounds)), found.users, found.codes,
                              table, cumulative)
    total = measures.compute(series.measure, np.zeros(len(slot), np.int64), (1, 1),
                             found.users, found.codes, table)[0]
    return values, total


def _ranked_groups(found: Columns) -> list[int]:
    """The codes of the breakdown's top values (-1: no value), most events first, then by
    value, no value last."""
    counts = np.bincount(found.groups + 1, minlength=len(found.group_values) + 1)
    present = np.flatnonzero(counts)
    ranked = present[np.lexsort((present, present == 0, -counts[present]))]
    return [int(slot) - 1 for slot in ranked[:BREAKDOWN_LINES]]


def _breakdown(series: Series, found: Columns, bounds: np.ndarray, cumulative: bool,
               table: Numbers | None, top: list[int]) -> list[dict]:
    """One line per top value (in `top`), and one for every other value when there are any."""
    line = np.full(len(found.group_values) + 1, len(top), np.int64)  # the rest: the last line
    line[np.array(top, np.int64) + 1] = np.arange(len(top))
    group = line[found.groups + 1]
    lines = len(top) + 1
    slot = group * len(bounds) + (found.slots if found.slots is not None
                                  else _slots(found.times, bounds))
    shape = (lines, len(bounds))
    values = measures.compute(series.measure, slot, shape, found.users, found.codes, table,
                              cumulative)
    totals = measures.compute(series.measure, group, (lines, 1), found.users, found.codes, table)
    events = np.bincount(group, minlength=lines)
    out = []
    for i in range(lines):
        if i == len(top) and not events[i]:
            break
        value = found.group_values[top[i]] if i < len(top) and top[i] >= 0 else None
        out.append({"value": value, "other": i == len(top),
                    "values": values[i * len(bounds):(i + 1) * len(bounds)],
                    "total": totals[i]})
    return out


def _run_range(trend: Trend, scope: Scope, bounds: list[datetime], lines: bool) -> dict:
    """Each series' values and total (and with `lines`, the breakdown's) over one range,
    exact."""
    edges = np.array([instant_us(b) for b in bounds], np.int64)
    source = Source(scope, edges)
    out = {}
    for series in trend.series:
        broken = trend.breakdown if lines and series.letter == trend.breakdown_series else None
        found = source.columns(series, broken)
        table = Numbers.of(found.values) if series.measure in OF_PROPERTY else None
        values, total = _measure(series, found, edges, trend.cumulative, table)
        entry = {"values": values, "total": total}
        if broken is not None:
            entry["lines"] = _breakdown(series, found, edges, trend.cumulative, table,
                                        _ranked_groups(found))
        out[series.letter] = entry
    return out


def _formula(trend: Trend, ran: dict, width: int) -> dict | None:
    if not trend.formula:
        return None
    tree = formulas.parse(trend.formula, "".join(ran))

    def at(pick) -> object:
        return formulas.evaluate(tree, {letter: formulas.exact(numbers.shown(pick(entry)))
                                        for letter, entry in ran.items()})

    return {"values": [at(lambda entry, i=i: entry["values"][i]) for i in range(width)],
            "total": at(lambda entry: entry["total"])}


def _change(now, before) -> float | None:
    """The change of a total in percent (None when there was nothing before)."""
    if now is None or before is None:
        return None
    now, before = Fraction(now), Fraction(before)
    if not before:
        return None
    return float(round((now - before) / abs(before) * 100, 2))


def _shown(values: list) -> list:
    return [numbers.to_json(numbers.shown(v)) for v in values]


def compute(trend: Trend, scope: Scope) -> dict:
    interval = trend.interval_for(scope)
    bounds = intervals.starts(interval, scope.time_zone, scope.start, scope.end)
    ran = _run_range(trend, scope, bounds, True)
    combined = _formula(trend, ran, len(bounds))
    data = {
        "interval": interval, "cumulative": trend.cumulative,
        "buckets": [{"timestamp": iso(b), "local": intervals.label(b, interval, scope.time_zone)}
                    for b in bounds],
        "series": [], "formula": None, "compare": None,
        "breakdown": ({"property": trend.breakdown, "series": trend.breakdown_series}
                      if trend.breakdown else None),
    }
    for series in trend.series:
        entry = ran[series.letter]
        out = {"letter": series.letter, "label": series.describe(),
               "eventType": series.events.event_type,
               "conditions": [str(c) for c in series.events.conditions],
               "measure": series.measure, "property": series.prop,
               "values": _shown(entry["values"]),
               "total": numbers.to_json(numbers.shown(entry["total"]))}
        if "lines" in entry:
            out["breakdown"] = [{"value": line["value"], "other": line["other"],
                                 "values": _shown(line["values"]),
                                 "total": numbers.to_json(numbers.shown(line["total"]))}
                                for line in entry["lines"]]
        data["series"].append(out)
    if combined is not None:
        data["formula"] = {"expression": trend.formula, "values": _shown(combined["values"]),
                           "total": numbers.to_json(numbers.shown(combined["total"]))}
    span = trend.compared_range(scope)
    if span is not None:
        earlier = replace(scope, start=span[0], end=span[1])
        before_bounds = intervals.starts(interval, scope.time_zone, *span)
        before = _run_range(trend, earlier, before_bounds, False)
        before_formula = _formula(trend, before, len(before_bounds))
        compare = {
            "mode": trend.compare, "from": iso(span[0]), "to": iso(span[1]),
            "buckets": [{"timestamp": iso(b),
                         "local": intervals.label(b, interval, scope.time_zone)}
                        for b in before_bounds],
            "series": [{"letter": letter, "values": _shown(entry["values"]),
                        "total": numbers.to_json(numbers.shown(entry["total"])),
                        "change": _change(numbers.shown(ran[letter]["total"]),
                                          numbers.shown(entry["total"]))}
                       for letter, entry in before.items()],
            "formula": None,
        }
        if before_formula is not None:
            compare["formula"] = {
                "values": _shown(before_formula["values"]),
                "total": numbers.to_json(numbers.shown(before_formula["total"])),
                "change": _change(numbers.shown(combined["total"]),
                                  numbers.shown(before_formula["total"]))}
        data["compare"] = compare
    return data


def cache_ranges(trend: Trend, scope: Scope) -> list[tuple[datetime, datetime]]:
    """The periods a trend's events come from (for the report cache)."""
    span = trend.compared_range(scope)
    return [(scope.start, scope.end)] + ([span] if span else [])


# ---- definitions from query parameters ------------------------------------------------------

def series_from(args, conditions, problems: list[str]) -> tuple[Series, ...]:
    """`A=signup&A.measure=users&A.property=amount&A.where=metadata.plan=pro`, for A to E."""
    found = []
    for letter in LETTERS:
        where = conditions(args, f"{letter}.where", problems)
        event = args.get(letter) or ""
        if not event:  # a form's unused series sends its measure: only conditions need one
            if where:
                problems.append(f'series {letter} needs an event type: {letter}=signup '
                                f"({letter}=* for every event)")
            continue
        found.append(Series(letter, Match(None if event == "*" else event, where),
                            args.get(f"{letter}.measure") or "events",
                            args.get(f"{letter}.property") or None))
    return tuple(found)


def from_args(args, conditions, problems: list[str]) -> Trend:
    return Trend(series_from(args, conditions, problems),
                 args.get("interval") or None, args.get("formula") or None,
                 args.get("compare") or None, args.get("breakdown") or None,
                 args.get("breakdown.series") or "A",
                 (args.get("cumulative") or "").lower() in ("1", "true", "on", "yes"))

