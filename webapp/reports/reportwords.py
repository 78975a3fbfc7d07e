"""Funnels, retention, paths and breakdowns in words for their pages: durations as people say
them ("11 h 39 min"), percentages with "%", counts with thousands separators, and each report's
tables with headers in words (the CSV keeps the API's keys: webapp.reports.tables)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from webapp.reads import ranges
from webapp.reports.trendwords import NO_VALUE, number, when

HEAT_STEPS = 10  # retention cells are coloured heat-0 .. heat-10 by share of their cohort
# The units of a duration, largest first; a duration shows its two largest.
UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


@dataclass(frozen=True)
class Cell:
    """One cell of a page's table: its text, a second figure in smaller type ("24.8%") and
    the classes that colour it."""

    text: str
    detail: str = ""
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table as a page shows it: a caption, headers in words, rows whose first cell names
    the row, and whether the last row is a total."""

    caption: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    css: str = ""
    total: bool = False


def duration(seconds: float | None) -> str:
    """A duration in its two largest units, the second rounded: 41932.2 -> "11 h 39 min",
    200 -> "3 min 20 s", 187200 -> "2 d 4 h", 3599.9 -> "1 h", 0.42 -> "0.4 s"."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return NO_VALUE
    if seconds < 9.95 and seconds != int(seconds):
        return f"{round(seconds, 1):g} s"
    for (name, size), (smaller, small_size) in zip(UNITS, UNITS[1:], strict=False):
        # counted in the smaller unit first, so that 59 min 36 s is "1 h", not "59 min 36 s"
        big, rest = divmod(round(seconds / small_size), size // small_size)
        if big:
            return f"{big:,} {name}" + (f" {rest} {smaller}" if rest else "")
    return f"{round(seconds)} s"


def percentage(value: float | None) -> str:
    """A percentage with one decimal: 24.75 -> "24.8%", 1234 -> "1,234.0%"."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    return f"{value:,.1f}%"


def share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def heat(part: int, whole: int) -> str:
    """The colour class of a share: heat-0 for none, else heat-1 .. heat-10 in steps of 10%
    (any share above none at least heat-1, so a little never looks like nothing)."""
    if not whole or part <= 0:
        return "heat-0"
    return f"heat-{min(HEAT_STEPS, max(1, round(HEAT_STEPS * part / whole)))}"


def users(count: int) -> str:
    return f"{number(count)} {'user' if count == 1 else 'users'}"


def events(count: int) -> str:
    return f"{number(count)} {'event' if count == 1 else 'events'}"


def value_name(value: str | None, other: bool = False) -> str:
    """A property's value as a row names it."""
    if other:
        return "other values"
    return "(no value)" if value is None else value


def step_name(step: dict) -> str:
    """A funnel step: "signup", "purchase where metadata.plan=pro"."""
    text = step["eventType"]
    if step["conditions"]:
        text += " where " + " and ".join(step["conditions"])
    return text


def local_range(start: str, end: str, zone: str) -> str:
    """An instant range on the project's clocks: "2026-03-01 00:00 to 2026-03-08 00:00"."""
    place = ZoneInfo(zone)

    def local(moment: datetime) -> str:
        try:
            return f"{moment.astimezone(place):%Y-%m-%d %H:%M}"
        except (OverflowError, ValueError):
            return f"{moment:%Y-%m-%d %H:%M} UTC"

    return f"{local(datetime.fromisoformat(start))} to {local(datetime.fromisoformat(end))}"


def previous_range(data: dict) -> str:
    """The period a funnel is compared with (the same length, just before), in words."""
    start, end = ranges.previous(datetime.fromisoformat(data["from"]),
                                 datetime.fromisoformat(data["to"]))
    return local_range(start.isoformat(), end.isoformat(), data["timeZone"])


# ---- funnel ---------------------------------------------------------------------------------

def funnel_summary(data: dict) -> str:
    """"1 of 2 users (50.0%) went from signup to buy within 1 h"."""
    steps = data["steps"]
    first, last = steps[0], steps[-1]
    text = (f"{number(last['users'])} of {users(first['users'])} "
            f"({percentage(last['conversionFromFirst'])}) went from {step_name(first)} to "
            f"{step_name(last)} within {duration(data['windowSeconds'])}")
    if data["mode"] == "strict":
        text += ", each step the very next"
    before = (data.get("previous") or {}).get("steps")
    if before and before[0]["users"]:
        text += (f"; the previous period: {number(before[-1]['users'])} of "
                 f"{number(before[0]['users'])} ({percentage(before[-1]['conversionFromFirst'])})")
    elif before:
        text += f"; in the previous period, nobody did {step_name(before[0])}"
    return text


def funnel_table(data: dict) -> Table:
    previous = (data.get("previous") or {}).get("steps")
    header = ["Step", "Users", "Converted from step 1", "Converted from the previous step",
              "Dropped off", "Median time from step 1", "90th percentile time from step 1"]
    if previous:
        header += ["Users, previous period", "Converted from step 1, previous period"]
    rows = []
    for i, step in enumerate(data["steps"]):
        row = [Cell(f"{step['step']}. {step_name(step)}"), Cell(number(step["users"])),
               Cell(percentage(step["conversionFromFirst"])),
               Cell(percentage(step["conversionFromPrevious"]) if i else NO_VALUE),
               Cell(number(step["dropOff"]) if i else NO_VALUE),
               Cell(duration(step["medianSeconds"])), Cell(duration(step["p90Seconds"]))]
        if previous:
            before = previous[i] if i < len(previous) else None
            row += [Cell(number(before["users"]) if before else NO_VALUE),
                    Cell(percentage(before["conversionFromFirst"]) if before else NO_VALUE)]
        rows.append(row)
    return Table("Each step: users, conversion and time to convert", header, rows)


def funnel_breakdown_table(data: dict) -> Table | None:
    """Users at each step per value of the breakdown's property, each later step with its
    share of that value's first step."""
    if not data.get("breakdown"):
        return None
    prop = data["breakdownProperty"]
    header = [f"{prop} (of step 1's event)",
              *(f"{s['step']}. {step_name(s)}" for s in data["steps"]),
              "Converted from step 1 to the last"]
    rows = []
    for group in data["breakdown"]:
        counts = group["steps"]
        first = counts[0] if counts else 0
        cells = [Cell(number(counts[0]) if counts else NO_VALUE)]
        cells += [Cell(number(n), percentage(share(n, first)) if first else "")
                  for n in counts[1:]]
        cells.append(Cell(percentage(share(counts[-1], first)) if first else NO_VALUE))
        rows.append([Cell(value_name(group["value"], group["other"])), *cells])
    return Table(f"By {prop}: users at each step (share of the value's step 1)", header, rows)


# ---- retention ------------------------------------------------------------------------------

def retention_summary(data: dict) -> str:
    cohorts = data["cohorts"]
    born = sum(c["users"] for c in cohorts)
    how = "on or after" if data["mode"] == "on_or_after" else "on"
    return (f"{users(born)} in {number(len(cohorts))} "
            f"{'cohort' if len(cohorts) == 1 else 'cohorts'} by {data['unit']} of their first "
            f"event; each cell counts those who came back {how} that {data['unit']}, and its "
            "share of the cohort")


def retention_table(data: dict) -> Table:
    """The coloured grid: a row per cohort, a cell per period with its count and share, the
    class heat-N by that share; a period not begun by the range's end says "not yet"."""
    unit = data["unit"]
    header = [f"Cohort ({unit} of the first event, {data['timeZone']})", "Users",
              *(f"{unit.capitalize()} {n}" for n in range(data["periods"]))]
    rows = []
    for cohort in data["cohorts"]:
        size = cohort["users"]
        cells = [Cell(when(cohort["cohort"], unit)), Cell(number(size))]
        for count in cohort["counts"]:
            if count is None:
                cells.append(Cell("not yet", css="not-yet"))
            else:
                cells.append(Cell(number(count), percentage(share(count, size)),
                                  f"heat {heat(count, size)}"))
        rows.append(cells)
    return Table("Users coming back, by cohort and " + unit, header, rows, "retention-grid")


# ---- paths ----------------------------------------------------------------------------------

def path_name(events_: list[str]) -> str:
    return " → ".join(events_)


def paths_summary(data: dict) -> str:
    found = data["paths"]
    return (f"{users(data['users'])} did {data['anchor']}; the {number(len(found))} most common "
            f"{'path' if len(found) == 1 else 'paths'} {data['direction']} it, up to "
            f"{data['depth']} {'event' if data['depth'] == 1 else 'events'} away")


def paths_table(data: dict) -> Table:
    header = [f"Path ({data['direction']} {data['anchor']})", "Users",
              f"Share of the users who did {data['anchor']}"]
    rows = [[Cell(path_name(p["events"])), Cell(number(p["users"])),
             Cell(percentage(share(p["users"], data["users"])))] for p in data["paths"]]
    return Table("The most common paths", header, rows)


# ---- breakdown ------------------------------------------------------------------------------

def breakdown_rows(data: dict) -> list[tuple[str, int, int | None, float, str]]:
    """(value's name, events, unique users or None, share of events, "" or "none" or
    "other") for each value shown, then the other values' events when the limit left some
    out."""
    found = [(value_name(v["value"]), v["count"], v["uniqueUsers"], v["share"],
              "none" if v["value"] is None else "") for v in data["values"]]
    if data["otherCount"]:
        found.append(("other values", data["otherCount"], None,
                      share(data["otherCount"], data["total"]) or 0.0, "other"))
    return found


def breakdown_summary(data: dict) -> str:
    of = f"{data['eventType']} events" if data["eventType"] else "events"
    named = sum(v["count"] for v in data["values"] if v["value"] is not None)
    return (f"{number(data['total'])} {of} by {data['property']}: {number(named)} with a value "
            f"({percentage(share(named, data['total']) or 0.0)})")


def breakdown_table(data: dict) -> Table:
    header = [f"Value of {data['property']}", "Events", "Unique users", "Share of events"]
    rows = [[Cell(name), Cell(number(count)), Cell(NO_VALUE if people is None else
                                                   number(people)), Cell(percentage(part))]
            for name, count, people, part, _ in breakdown_rows(data)]
    rows.append([Cell("Total"), Cell(number(data["total"])), Cell(NO_VALUE),
                 Cell(percentage(100.0 if data["total"] else 0.0))])
    return Table(f"Events by {data['property']}", header, rows, total=True)


def tables(kind: str, data: dict) -> list[Table]:
    """A report's tables for its page, in the order it shows them."""
    if kind == "funnel":
        return [t for t in (funnel_table(data), funnel_breakdown_table(data)) if t]
    if kind == "retention":
        return [retention_table(data)]
    if kind == "paths":
        return [paths_table(data)]
    if kind == "breakdown":
        return [breakdown_table(data)]
    raise ValueError(kind)


SUMMARIES = {"funnel": funnel_summary, "retention": retention_summary,
             "paths": paths_summary, "breakdown": breakdown_summary}
# What a report is called in a sentence ("The funnel did not run"), and what its empty form asks.
NAMES = {"funnel": "funnel", "retention": "retention report", "paths": "paths report",
         "breakdown": "breakdown", "trends": "trend"}
HINTS = {"funnel": "A funnel has two to eight steps, each an event type (the fields suggest "
                   "the project's own).",
         "retention": "Leave the events empty to count any event.",
         "paths": "Name the event the paths start from (or, looking before, end at).",
         "breakdown": "Name the property to break down by (the field suggests the project's "
                      "own)."}
