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

The events come from the packed days when neither the series nor the range has property
conditions, else from PostgreSQL (`webapp.reports.trendsource`); both go through the same
passes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

import numpy as np

from webapp.errors import BadFormula
from webapp.models import iso
from webapp.reports import formula as formulas
from webapp.reports import intervals, measures, numbers
from webapp.reports.definition import BadReport, Match, Scope
from webapp.reports.events import instant_us
from webapp.reports.measures import MEASURES, NOT_CUMULATIVE, NUMERIC, OF_PROPERTY, Numbers
from webapp.reports.trendsource import Columns, Source

LETTERS = "ABCDE"
BREAKDOWN_LINES = 10


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
            except BadFormula as exc:
                problems.extend(exc.problems)
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


# ---- computing ------------------------------------------------------------------------------

def _slots(times: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    return np.searchsorted(bounds, times, side="right") - 1


def _measure(series: Series, found: Columns, bounds: np.ndarray, cumulative: bool,
             table: Numbers | None) -> tuple[list, object]:
    slot = found.slots if found.slots is not None else _slots(found.times, bounds)
    numbers_of = {"amounts": found.amounts, "places": found.places}
    values = measures.compute(series.measure, slot, (1, len(bounds)), found.users, found.codes,
                              table, cumulative, **numbers_of)
    total = measures.compute(series.measure, np.zeros(len(slot), np.int64), (1, 1),
                             found.users, found.codes, table, **numbers_of)[0]
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
        found = source.columns(series.events, series.prop, broken,
                               numeric=series.measure in NUMERIC)
        table = Numbers.of(found.values) if series.measure in OF_PROPERTY and \
            found.amounts is None else None
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

