"""A tile's compact drawing of a saved report's result: its headline number in words, a small
trend chart (a line per series, the compared period dashed; SVG geometry laid out on the server,
its colours CSS classes, as the page's CSP allows no inline styles) or bars (a funnel's steps, a
breakdown's values, the common paths). The report page draws the full charts
(`webapp.reports.trendsvg`, `pathsvg`); a tile has a third of the room."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from webapp.reports import trendsvg, trendwords

WIDTHS = {"small": 320, "tall": 320, "wide": 680}  # about a tile's width in pixels
HEIGHTS = {"small": 110, "wide": 110, "tall": 190}
CHAR_W = 6.5  # about one character of the 11px text
COLOURS = 6  # s0..s5, as the report page's
MOST_BARS = 8


@dataclass(frozen=True)
class Headline:
    """The tile's number (as shown, and as the JSON has it) and what it counts."""

    shown: str
    words: str
    value: object = None


@dataclass(frozen=True)
class Line:
    css: str
    name: str
    compare: bool = False
    paths: list[str] = field(default_factory=list)  # one "M .. L .." per run without gaps
    dots: list[tuple[float, float]] = field(default_factory=list)  # points with no neighbour


@dataclass(frozen=True)
class Spark:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    lines: list[Line]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str, str]]  # (x, text, anchor)
    title: str
    empty: bool


@dataclass(frozen=True)
class BarRow:
    label: str
    value: float
    text: str  # the value in words


@dataclass(frozen=True)
class Bars:
    """Rows of a label, a value in words and a bar (a `<progress>` the page's stylesheet
    colours), the longest bar as wide as the tile: text that stays legible at any width."""

    rows: list[BarRow]
    most: float
    title: str


def users(count: int) -> str:
    return f"{count:,} user{'' if count == 1 else 's'}"


def percent(value) -> str:
    return trendwords.NO_VALUE if value is None else f"{float(value):,.1f}%"


def headline(kind: str, data: dict) -> Headline:
    """The number a tile leads with."""
    if kind == "trends":
        if data.get("formula"):
            formula = data["formula"]
            return Headline(trendwords.number(formula["total"]),
                            f"formula {formula['expression']}, over the range",
                            formula["total"])
        first = data["series"][0]
        return Headline(trendwords.number(first["total"]),
                        f"{trendwords.measure_of(first)}: {trendwords.events_of(first)}",
                        first["total"])
    if kind == "funnel":
        steps = data["steps"]
        return Headline(percent(steps[-1]["conversionFromFirst"] if steps[0]["users"] else None),
                        f"of {users(steps[0]['users'])} went from {steps[0]['eventType']} to "
                        f"{steps[-1]['eventType']}", steps[-1]["users"])
    if kind == "retention":
        born = sum(cohort["users"] for cohort in data["cohorts"])
        cohorts = len(data["cohorts"])
        return Headline(f"{born:,}", f"{'user' if born == 1 else 'users'} in {cohorts} "
                                     f"{data['unit']} cohort{'' if cohorts == 1 else 's'}", born)
    if kind == "paths":
        return Headline(f"{data['users']:,}", f"{'user' if data['users'] == 1 else 'users'} "
                                              f"{data['direction']} "
                                              f"{data['anchor'] or 'any event'}", data["users"])
    return Headline(f"{data['total']:,}", f"{data['eventType'] or 'events'} by "
                                          f"{data['property']}", data["total"])


def _drawn(data: dict) -> list[tuple[str, str, list, bool]]:
    """(css, name, values, compare) of every line, coloured in the report page's order."""
    lines, colour = [], 0
    compare = data.get("compare")
    before = {s["letter"]: s for s in compare["series"]} if compare else {}

    def css() -> str:
        nonlocal colour
        colour += 1
        return f"s{(colour - 1) % COLOURS}"

    for series in data["series"]:
        own = css()
        lines.append((own, trendwords.name_of(series), series["values"], False))
        if series["letter"] in before:
            lines.append((own, f"{trendwords.name_of(series)}, compared period",
                          before[series["letter"]]["values"], True))
        for line in series.get("breakdown", []):
            lines.append((css(), f"{series['letter']}: " + trendwords.line_name(
                data["breakdown"]["property"], line), line["values"], False))
    if data.get("formula"):
        own = css()
        lines.append((own, f"Formula {data['formula']['expression']}",
                      data["formula"]["values"], False))
        if compare and compare.get("formula"):
            lines.append((own, f"Formula {data['formula']['expression']}, compared period",
                          compare["formula"]["values"], True))
    return lines


def spark(data: dict, size: str) -> Spark:
    """A trend's small chart: its lines over round y ticks (0 among them), the first and last
    buckets' times under it."""
    width, height = WIDTHS.get(size, WIDTHS["small"]), HEIGHTS.get(size, HEIGHTS["small"])
    count = len(data["buckets"])
    drawn = _drawn(data)
    found = [v for _, _, values, _ in drawn
             for v in map(trendsvg.as_float, values[:count]) if v is not None]
    marks = trendsvg.ticks(min(found, default=0.0), max(found, default=0.0), count=2,
                           whole=all(v.is_integer() for v in found))
    low, high = float(marks[0]), float(marks[-1])
    shown = sorted({marks[0], marks[-1], Decimal(0)})  # the ends and zero
    left = 6 + CHAR_W * max(len(trendsvg.tick_text(m)) for m in marks)
    top, right, bottom = 6, width - 6, height - 18
    slot = (right - left) / max(count, 1)

    def y_of(value: float) -> float:
        return round(top + (bottom - top) * (high - value) / (high - low), 2)

    def x_of(i: int) -> float:
        return round(left + slot * (i + 0.5), 2)

    lines = []
    for css, name, values, compare in drawn[:COLOURS * 2]:
        runs, run = [], []
        for i, value in enumerate(values[:count]):
            number = trendsvg.as_float(value)
            if number is None:  # a gap, not a zero
                if run:
                    runs.append(run)
                run = []
                continue
            run.append((x_of(i), y_of(number)))
        if run:
            runs.append(run)
        lines.append(Line(css, name, compare,
                          ["M" + " L".join(f"{x},{y}" for x, y in piece)
                           for piece in runs if len(piece) > 1],
                          [piece[0] for piece in runs if len(piece) == 1]))
    lines.sort(key=lambda line: not line.compare)  # the compared period under the range's
    labels = [b["local"] for b in data["buckets"]]
    x_labels = []
    if labels:
        x_labels.append((left, trendsvg.x_label(labels[0], data["interval"], None)[0], "start"))
        if count > 1:
            x_labels.append((right, trendsvg.x_label(labels[-1], data["interval"], None)[0],
                             "end"))
    totals = "; ".join(f"{trendwords.name_of(s)}, total {trendwords.number(s['total'])}"
                       for s in data["series"])
    if data.get("formula"):
        totals += (f"; formula {data['formula']['expression']}, total "
                   f"{trendwords.number(data['formula']['total'])}")
    how = trendwords.INTERVAL_WORDS.get(data["interval"], data["interval"]).lower()
    title = (f"{'Cumulative trend' if data.get('cumulative') else 'Trend'} per {how}, "
             f"{count} points: {totals}")
    return Spark(width, height, left, right, top, bottom, lines,
                 [(y_of(float(m)), trendsvg.tick_text(m)) for m in shown], x_labels, title,
                 not any(found))


def bars(items: list[tuple[str, float, str]], title: str) -> Bars:
    """Bars of (label, value, value in words), at most MOST_BARS of them (the table under them
    has every one)."""
    items = items[:MOST_BARS]
    most = max((value for _, value, _ in items), default=0) or 1
    return Bars([BarRow(label, max(0, value), text) for label, value, text in items], most,
                title)


def funnel_bars(data: dict) -> Bars:
    items = [(f"{s['step']}. {s['eventType']}", s["users"],
              f"{s['users']:,} · {percent(s['conversionFromFirst'])}") for s in data["steps"]]
    return bars(items, "Users at each step of the funnel")


def breakdown_bars(data: dict) -> Bars:
    items = [("(none)" if v["value"] is None else str(v["value"]), v["count"],
              f"{v['count']:,} · {percent(v['share'])}") for v in data["values"]]
    return bars(items, f"{data['eventType'] or 'Events'} by {data['property']}")


def paths_bars(data: dict) -> Bars:
    items = [(" › ".join(p["events"]), p["users"], users(p["users"]))
             for p in data["paths"]]
    return bars(items, f"The most common paths {data['direction']} "
                       f"{data['anchor'] or 'any event'}")
