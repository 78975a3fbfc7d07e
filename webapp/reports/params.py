"""Report definitions from query parameters (the JSON routes, the CSV and the pages' forms
share them), listing every problem at once.

    where=metadata.page=/pricing      a property filter (repeatable); `^=` means "starts with"
    from=2026-03-01&to=2026-03-31     local dates in the project's zone, or ISO instants
    funnel:    step=signup&step=purchase&step2.where=metadata.plan=pro&window=7d&mode=strict
               &breakdown=plan
    retention: start=signup&return=purchase&unit=week&periods=8&mode=on_or_after
    paths:     event=page_view&direction=before&depth=5
    breakdown: property=plan&eventType=purchase&limit=20
    trends:    A=signup&B=purchase&B.measure=sum&B.property=amount&formula=B / A
               &interval=day&compare=previous&cumulative=1&breakdown=plan&breakdown.series=B
    range=7d                          instead of from/to: today, 7d, 30d, 90d or month (so far)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from webapp.models import iso
from webapp.reads import filters
from webapp.reads.ranges import parse_range
from webapp.reports import breakdown, cache, funnel, intervals, paths, retention, trends
from webapp.reports.definition import BadReport, Match, Scope

WINDOW = re.compile(r"^([0-9]{1,6})\s*(m|min|h|d)?$")
WHOLE = re.compile(r"[0-9]{1,9}")
UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400}


def scope(args, project_id: int, time_zone: str, now: datetime,
          problems: list[str]) -> Scope:
    preset = args.get("range")
    if preset:
        if preset not in intervals.PRESETS:
            problems.append(f'"range" is one of {", ".join(intervals.PRESETS)}, not "{preset}"')
        elif args.get("from") or args.get("to"):
            problems.append('give "range" or "from"/"to", not both')
        else:
            start, end = intervals.preset_range(preset, time_zone, now)
            return Scope(project_id, start, end, time_zone,
                         filters.conditions(args, "where", problems))
    start, end = parse_range(args.get("from"), args.get("to"), time_zone, now, problems)
    return Scope(project_id, start, end, time_zone, filters.conditions(args, "where", problems))


def whole(args, name: str, default: int, problems: list[str]) -> int:
    text = args.get(name) or str(default)
    if not WHOLE.fullmatch(text):  # ASCII digits only: int() refuses "²", which isdigit() takes
        problems.append(f'"{name}" must be a whole number, not "{text}"')
        return default
    return int(text)


def window(text: str | None, problems: list[str]) -> timedelta:
    found = WINDOW.match((text or "1d").strip())
    if not found:
        problems.append(f'"window" must look like 30m, 6h or 7d, not "{text}"')
        return timedelta(days=1)
    return timedelta(seconds=int(found[1]) * UNIT_SECONDS[found[2] or "m"])


def optional_type(args, name: str) -> Match:
    return Match(args.get(name) or None)


def build(kind: str, args, problems: list[str]):
    """The definition of a report of `kind`; problems are appended, not raised."""
    try:
        if kind == "funnel":
            types = args.getlist("step")
            # every step's conditions are read, so a bad one is refused even without its step
            where = [filters.conditions(args, f"step{i}.where", problems)
                     for i in range(1, funnel.MAX_STEPS + 1)]
            problems.extend(f'"step{i}.where" names no step' for i, found in enumerate(where, 1)
                            if found and not (i <= len(types) and types[i - 1]))
            steps = tuple(Match(t, where[i - 1] if i <= len(where) else ())
                          for i, t in enumerate(types, 1) if t)
            return funnel.Funnel(steps, window(args.get("window"), problems),
                                 args.get("mode") or "ordered", args.get("breakdown") or None)
        if kind == "retention":
            return retention.Retention(optional_type(args, "start"),
                                       optional_type(args, "return"),
                                       args.get("unit") or "day",
                                       whole(args, "periods", 8, problems),
                                       args.get("mode") or "on")
        if kind == "paths":
            return paths.Paths(Match(args.get("event") or None,
                                     filters.conditions(args, "event.where", problems)),
                               args.get("direction") or "after",
                               whole(args, "depth", 3, problems))
        if kind == "breakdown":
            return breakdown.Breakdown(args.get("property") or "",
                                       optional_type(args, "eventType"),
                                       whole(args, "limit", 20, problems))
        if kind == "trends":
            return trends.from_args(args, filters.conditions, problems)
    except BadReport as exc:
        problems.extend(exc.problems)
        return None
    raise ValueError(kind)


MODULES = {"funnel": funnel, "retention": retention, "paths": paths, "breakdown": breakdown,
           "trends": trends}


def run(kind: str, args, project_id: int, time_zone: str, now: datetime) -> dict:
    """Parse and run one report; raises BadReport listing every problem."""
    problems: list[str] = []
    where = scope(args, project_id, time_zone, now, problems)
    definition = build(kind, args, problems)
    if kind == "trends" and definition is not None and not problems:
        problems.extend(definition.problems_with(where))
    if problems:
        raise BadReport(problems)
    ranges = [(where.start, where.end)]
    if kind == "funnel":  # shown beside the period before
        ranges.append((where.previous().start, where.start))
    if kind == "retention":  # a user is born at their first event ever: every earlier day too
        ranges = [(None, where.end)]
    if kind == "trends":  # and the period it is compared with
        ranges = trends.cache_ranges(definition, where)
    data, hit = cache.cached(project_id, repr((kind, definition, where)),
                             lambda: MODULES[kind].compute(definition, where), ranges)
    data["from"], data["to"], data["timeZone"] = iso(where.start), iso(where.end), time_zone
    data["where"] = [str(c) for c in where.filters]
    data["cached"] = hit
    return data
