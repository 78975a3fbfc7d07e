"""Plain-Python models of each report's definition, over a list of stored events."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Row:
    id: int
    type: str
    user: str
    ts: datetime
    meta: dict


def text(meta: dict, key: str) -> str | None:
    """What PostgreSQL's `metadata->>key` gives for the values the tests generate."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def meets(condition, row: Row) -> bool:
    value = text(row.meta, condition.key)
    if value is None:
        return False
    return value.startswith(condition.value) if condition.op == "prefix" else \
        value == condition.value


def matches(match, row: Row) -> bool:
    return (match.event_type is None or row.type == match.event_type) and \
        all(meets(c, row) for c in match.conditions)


def in_scope(scope, row: Row) -> bool:
    return (scope.start is None or row.ts >= scope.start) and \
        (scope.end is None or row.ts < scope.end) and all(meets(c, row) for c in scope.filters)


def by_user(rows: list[Row]) -> dict[str, list[Row]]:
    users: dict[str, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.ts, r.id)):
        users[row.user].append(row)
    return users


def percentile_disc(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def value_order(item):
    value, users = item
    return (-users, value is None, value or "")


# ---- funnel ---------------------------------------------------------------------------------

def funnel_attempt(funnel, events: list[Row], first: int) -> list[int]:
    chain = [first]
    for step in funnel.steps[1:]:
        last = chain[-1]
        if funnel.mode == "ordered":
            nxt = next((i for i in range(last + 1, len(events)) if matches(step, events[i])),
                       None)
        else:
            nxt = last + 1 if last + 1 < len(events) and matches(step, events[last + 1]) else None
        if nxt is None or events[nxt].ts - events[first].ts > funnel.window:
            break
        chain.append(nxt)
    return chain


def funnel_users(funnel, scope, rows: list[Row]) -> list[tuple[int, list[float], str | None]]:
    """(level, seconds from the first step to each later step, breakdown value) per user."""
    result = []
    for events in by_user([r for r in rows if in_scope(scope, r)]).values():
        events = [e for e in events if any(matches(s, e) for s in funnel.steps)]
        best = None
        for i, event in enumerate(events):
            if matches(funnel.steps[0], event):
                chain = funnel_attempt(funnel, events, i)
                if best is None or len(chain) > len(best):
                    best = chain
        if best is not None:
            start = events[best[0]]
            seconds = [(events[i].ts - start.ts).total_seconds() for i in best[1:]]
            value = text(start.meta, funnel.breakdown) if funnel.breakdown else None
            result.append((len(best), seconds, value))
    return result


def funnel(funnel_def, scope, rows: list[Row]) -> dict:
    users = funnel_users(funnel_def, scope, rows)
    k = len(funnel_def.steps)
    counts = [sum(1 for level, _, _ in users if level >= i + 1) for i in range(k)]
    steps = []
    for i in range(k):
        times = [seconds[i - 1] for level, seconds, _ in users if i and level > i]
        steps.append({
            "users": counts[i],
            "conversionFromFirst": pct(counts[i], counts[0]),
            "conversionFromPrevious": pct(counts[i], counts[i - 1]) if i else
            (100.0 if counts[0] else 0.0),
            "dropOff": counts[i - 1] - counts[i] if i else 0,
            "medianSeconds": percentile_disc(times, 0.5),
            "p90Seconds": percentile_disc(times, 0.9),
        })
    data = {"steps": steps}
    if funnel_def.breakdown:
        by_value = Counter(value for _, _, value in users)
        ranked = sorted(by_value.items(), key=value_order)
        top = [value for value, _ in ranked[:10]]
        groups = [{"value": v, "other": False,
                   "steps": [sum(1 for lv, _, val in users if val == v and lv >= i + 1)
                             for i in range(k)]} for v in top]
        rest = [(lv, val) for lv, _, val in users if val not in top]
        if rest:
            groups.append({"value": None, "other": True,
                           "steps": [sum(1 for lv, _ in rest if lv >= i + 1) for i in range(k)]})
        data["breakdown"] = groups
    return data


# ---- retention ------------------------------------------------------------------------------

def bucket(moment: datetime, unit: str, zone: str) -> date:
    day = moment.astimezone(ZoneInfo(zone)).date()
    return day if unit == "day" else day - timedelta(days=day.weekday())


def retention(definition, scope, rows: list[Row]) -> list[dict]:
    step = 1 if definition.unit == "day" else 7
    last_day = (scope.end - timedelta(microseconds=1)).astimezone(ZoneInfo(scope.time_zone)).date()
    visible = [r for r in rows if all(meets(c, r) for c in scope.filters)]
    cohorts: dict[date, list[set[int]]] = defaultdict(list)
    for events in by_user(visible).values():
        starts = [e for e in events if matches(definition.start, e)]
        if not starts or not scope.start <= starts[0].ts < scope.end:
            continue
        born = starts[0].ts
        cohort = bucket(born, definition.unit, scope.time_zone)
        periods = {(bucket(e.ts, definition.unit, scope.time_zone) - cohort).days // step
                   for e in events if born <= e.ts < scope.end and matches(definition.back, e)}
        cohorts[cohort].append(periods)
    result = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        counts = []
        for n in range(definition.periods):
            if cohort + timedelta(days=step * n) > last_day:
                counts.append(None)
            elif definition.mode == "on":
                counts.append(sum(1 for periods in members if n in periods))
            else:
                counts.append(sum(1 for periods in members if any(p >= n for p in periods)))
        result.append({"cohort": cohort.isoformat(), "users": len(members), "counts": counts})
    return result


# ---- paths ----------------------------------------------------------------------------------

def collapse(types: list[str]) -> list[str]:
    out: list[str] = []
    for kind in types:
        if not out or out[-1] != kind:
            out.append(kind)
    return out


def paths(definition, scope, rows: list[Row]) -> dict:
    walks = Counter()
    users = 0
    for events in by_user([r for r in rows if in_scope(scope, r)]).values():
        anchors = [i for i, e in enumerate(events) if matches(definition.anchor, e)]
        if not anchors:
            continue
        users += 1
        if definition.direction == "after":
            walk = collapse([e.type for e in events[anchors[0]:]])[:definition.depth + 1]
        else:
            walk = collapse([e.type for e in reversed(events[:anchors[-1] + 1])])
            walk = list(reversed(walk[:definition.depth + 1]))
        walks[tuple(walk)] += 1
    top = sorted(walks.items(), key=lambda item: (-item[1], list(item[0])))[:20]
    return {"users": users, "paths": [{"events": list(w), "users": n} for w, n in top]}


# ---- breakdown and timeline -----------------------------------------------------------------

def breakdown(definition, scope, rows: list[Row]) -> dict:
    chosen = [r for r in rows if in_scope(scope, r) and matches(definition.events, r)]
    counts = Counter(text(r.meta, definition.prop) for r in chosen)
    users: dict[str | None, set[str]] = defaultdict(set)
    for r in chosen:
        users[text(r.meta, definition.prop)].add(r.user)
    ranked = sorted(counts.items(), key=value_order)[:definition.limit]
    total = len(chosen)
    return {"total": total, "otherCount": total - sum(n for _, n in ranked),
            "values": [{"value": v, "count": n, "uniqueUsers": len(users[v]),
                        "share": pct(n, total)} for v, n in ranked]}


def timeline(scope, user: str, rows: list[Row]) -> dict:
    mine = sorted((r for r in rows if r.user == user and in_scope(scope, r)),
                  key=lambda r: (r.ts, r.id), reverse=True)
    types = Counter(r.type for r in mine)
    return {
        "first": min((r.ts for r in mine), default=None),
        "last": max((r.ts for r in mine), default=None),
        "total": len(mine),
        "types": [{"type": t, "count": n} for t, n in sorted(types.items(),
                                                              key=lambda i: (-i[1], i[0]))],
        "ids": [r.id for r in mine],
    }
