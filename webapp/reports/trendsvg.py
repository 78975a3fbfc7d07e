"""A trend's chart as SVG geometry, laid out on the server: one line (or set of bars) per
series, per line of the broken-down series and for the formula, the compared period as dashed
lines of the same colours, round y ticks, x labels on the project's clocks, a hover title for
every point. Colours are CSS classes (s0..s5): the page's CSP allows no inline styles."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from webapp.reports import trendwords as words

WIDTH, HEIGHT = 900, 300
TOP, RIGHT, BOTTOM = 12, 12, 40  # room for two lines of x labels
CHAR_W = 7  # about one character of the 12px axis text
COLOURS = 6  # s0..s5
MAX_X_LABELS = 8
DENSE = 120  # more points than this: the dots show on hover only
DISPLAYS = ("line", "bar")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str
    alone: bool = False  # no neighbour to join: the dot is all there is of it


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Line:
    key: str  # "A", "A plan=pro", "formula"
    css: str  # "s0".."s5"
    compare: bool = False
    paths: list[str] = field(default_factory=list)  # one "M .. L .." per run without gaps
    points: list[Point] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class LegendItem:
    css: str
    key: str  # "A", "Formula", or "" for a breakdown line and the dashed line's meaning
    name: str
    total: str
    change: str | None  # "+12.5%", None without a comparison
    before: str | None = None  # the compared period's total
    part: bool = False  # a line of a breakdown
    compare: bool = False  # the dashed line's meaning


@dataclass(frozen=True)
class Drawing:
    lines: list[Line]
    legend: list[LegendItem]
    y_ticks: list[tuple[float, str]]  # (y, "1,000")
    x_labels: list[tuple[float, str, str]]  # (x, "14:00", "Tue 10 Mar" or "")
    title: str  # the chart's accessible name
    display: str
    points: int  # buckets
    left: float
    zero: float  # the y of value 0
    dense: bool
    empty: bool  # every value zero or none: nothing to draw
    compared: str | None  # "the previous period", None without a comparison
    width: int = WIDTH
    height: int = HEIGHT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM


def display_problems(args) -> list[str]:
    display = args.get("display") or "line"
    if display not in DISPLAYS:
        return [f'"display" is one of {", ".join(DISPLAYS)}, not "{display}"']
    return []


def as_float(value) -> float | None:
    found = words.exact(value)
    return None if found is None or not found.is_finite() else float(found)


def nice_step(span: float, count: int = 5, whole: bool = False) -> Decimal:
    """The smallest of 1, 2, 5 x 10^k that divides `span` into at most `count` steps (with
    `whole`, at least 1: counts have no half events)."""
    if span <= 0 or not math.isfinite(span):
        return Decimal(1)
    exponent = math.floor(math.log10(span / count))
    if whole:
        exponent = max(exponent, 0)
    for mantissa in (1, 2, 5, 10):
        step = Decimal(mantissa).scaleb(exponent)
        if float(step) * count >= span * (1 - 1e-12):
            return step
    return Decimal(10).scaleb(exponent)


def ticks(low: float, high: float, count: int = 5, whole: bool = False) -> list[Decimal]:
    """Round ticks from at or below `low` to at or above `high` (0 always among them; with
    `whole`, whole numbers only)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:  # every value zero: an axis from 0 to 1
        return [Decimal(0), Decimal(1)]
    step = nice_step(high - low, count, whole)
    first = math.floor(low / float(step) + 1e-9)
    last = math.ceil(high / float(step) - 1e-9)
    return [step * k for k in range(first, last + 1)]


def tick_text(value: Decimal) -> str:
    text = format(value, ",f")
    return "0" if value == 0 else text


def x_picks(count: int, most: int = MAX_X_LABELS) -> list[int]:
    """Indexes of the buckets to label: evenly spaced, the first always."""
    if count <= 0:
        return []
    step = max(1, math.ceil(count / most))
    return list(range(0, count, step))


def x_label(label: str, interval: str, previous: str | None) -> tuple[str, str]:
    """An axis label in two lines: the time (or date), and under it the date (or year) when
    it differs from the previous label's."""
    moment = words.local_of(label)
    if interval in ("hour", "minute"):
        day = words.day_text(moment, False)
        shown_before = previous is not None and previous[:10] == label[:10]
        return f"{moment:%H:%M}", "" if shown_before else day
    if interval == "month":
        return f"{moment:%b}", "" if previous and previous[:4] == label[:4] else str(moment.year)
    return (f"{moment.day} {moment:%b}",
            "" if previous and previous[:4] == label[:4] else str(moment.year))


def _range_text(data: dict) -> str:
    zone = ZoneInfo(data["timeZone"])

    def local(text: str) -> str:
        try:
            return f"{datetime.fromisoformat(text).astimezone(zone):%Y-%m-%d %H:%M}"
        except (OverflowError, ValueError):
            return text

    return f"{local(data['from'])} to {local(data['to'])} ({data['timeZone']})"


@dataclass
class _Drawn:
    """One line to draw: its values and how its points are named."""

    key: str
    css: str
    values: list
    name: str  # "A: signup", "A: signup, plan = pro", "Formula A / B"
    series: dict | None  # for the unit of its values; None: a formula's plain numbers
    compare: bool = False


def _lines(data: dict) -> tuple[list[_Drawn], list[LegendItem]]:
    drawn, legend = [], []
    compare = data.get("compare")
    before = {s["letter"]: s for s in compare["series"]} if compare else {}
    colour = 0

    def next_css() -> str:
        nonlocal colour
        colour += 1
        return f"s{(colour - 1) % COLOURS}"

    for series in data["series"]:
        css = next_css()
        name = f"{series['letter']}: {words.events_of(series)}"
        drawn.append(_Drawn(series["letter"], css, series["values"], name, series))
        earlier = before.get(series["letter"])
        legend.append(LegendItem(css, series["letter"],
                                 f"{words.events_of(series)} ({words.measure_of(series)})",
                                 words.number(series["total"]),
                                 words.change(earlier["change"]) if earlier else None,
                                 words.number(earlier["total"]) if earlier else None))
        for line in series.get("breakdown", []):
            part = words.line_name(data["breakdown"]["property"], line)
            line_css = next_css()
            drawn.append(_Drawn(f"{series['letter']} {part}", line_css, line["values"],
                                f"{name}, {part}", series))
            legend.append(LegendItem(line_css, "", part, words.number(line["total"]), None,
                                     part=True))
    formula = data.get("formula")
    formula_css = None
    if formula:
        formula_css = next_css()
        drawn.append(_Drawn("formula", formula_css, formula["values"],
                            f"Formula {formula['expression']}", None))
        earlier = compare.get("formula") if compare else None
        legend.append(LegendItem(formula_css, "Formula", formula["expression"],
                                 words.number(formula["total"]),
                                 words.change(earlier["change"]) if earlier else None,
                                 words.number(earlier["total"]) if earlier else None))
    if compare:
        mode = words.COMPARE_WORDS.get(compare["mode"], compare["mode"])
        for item in [d for d in drawn if d.key in before]:
            drawn.append(_Drawn(f"{item.key} compare", item.css, before[item.key]["values"],
                                f"{item.name}, {mode}", item.series, compare=True))
        if formula_css and compare.get("formula"):
            drawn.append(_Drawn("formula compare", formula_css, compare["formula"]["values"],
                                f"Formula {formula['expression']}, {mode}", None,
                                compare=True))
        legend.append(LegendItem("", "", f"{mode}, {_range_text({**data, **compare})}",
                                 "", None, compare=True))
    return drawn, legend


def _title_of(item: _Drawn, value, when: str, zone: str) -> str:
    shown = words.amount(item.series, value) if item.series else words.number(value)
    return f"{when} ({zone}) · {item.name} · {shown}"


def layout(data: dict, display: str = "line") -> Drawing:
    """The chart of a trend's JSON (`webapp.reports.trends.compute`, as the API answers it)."""
    display = display if display in DISPLAYS else "line"
    zone, interval = data["timeZone"], data["interval"]
    count = len(data["buckets"])
    drawn, legend = _lines(data)
    compare = data.get("compare")
    labels = [b["local"] for b in data["buckets"]]
    before_labels = [b["local"] for b in compare["buckets"]] if compare else []
    year = words.spans_years(labels + before_labels)
    names = words.bucket_names(data["buckets"], interval, year)
    before_names = words.bucket_names(compare["buckets"], interval, year) if compare else []

    found = [v for item in drawn for v in map(as_float, item.values[:count]) if v is not None]
    marks = ticks(min(found, default=0.0), max(found, default=0.0),
                  whole=all(v.is_integer() for v in found))
    low, high = float(marks[0]), float(marks[-1])
    left = 10 + CHAR_W * max(len(tick_text(m)) for m in marks)
    plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(count, 1)

    def y_of(value: float) -> float:
        return round(TOP + plot_h * (high - value) / (high - low), 2)

    def x_of(i: int) -> float:
        return round(left + slot * (i + 0.5), 2)

    zero = y_of(0.0)
    barred = {item.key: n for n, item in enumerate(
        [item for item in drawn if not item.compare] if display == "bar" else [])}
    group = slot * 0.8
    bar_w = group / max(len(barred), 1)
    lines = []
    for item in drawn:
        times = before_names if item.compare else names
        points, bars, paths, run = [], [], [], []
        for i, value in enumerate(item.values[:count]):
            number = as_float(value)
            if number is None:  # a gap, not a zero
                if run:
                    paths.append(run)
                run = []
                continue
            title = _title_of(item, value, times[i] if i < len(times) else "", zone)
            if item.key in barred and not item.compare:
                top = y_of(max(number, 0.0))
                x = left + slot * i + (slot - group) / 2 + bar_w * barred[item.key]
                bars.append(Bar(round(x, 2), top, round(bar_w, 2),
                                round(abs(y_of(number) - zero), 2), title))
            else:
                run.append(Point(x_of(i), y_of(number), title))
        if run:
            paths.append(run)
        for piece in paths:
            alone = len(piece) == 1
            points.extend(Point(p.x, p.y, p.title, alone) for p in piece)
        lines.append(Line(item.key, item.css, item.compare,
                          ["M" + " L".join(f"{p.x},{p.y}" for p in piece)
                           for piece in paths if len(piece) > 1],
                          points, bars))

    lines.sort(key=lambda line: not line.compare)  # the compared period under the range's
    picks = x_picks(count)
    x_labels = []
    for n, i in enumerate(picks):
        previous = labels[picks[n - 1]] if n else None
        x_labels.append((x_of(i), *x_label(labels[i], interval, previous)))
    y_ticks = [(y_of(float(m)), tick_text(m)) for m in marks]
    how = words.INTERVAL_WORDS.get(interval, interval).lower()
    summary = "; ".join(f"{item.key}: {item.name}, total {item.total}"
                        for item in legend if item.key)
    title = (f"{'Cumulative trend' if data.get('cumulative') else 'Trend'} per {how}, "
             f"{_range_text(data)}, {count} points: {summary}")
    return Drawing(lines, legend, y_ticks, x_labels, title, display, count, left, zero,
                   count > DENSE, not any(found),
                   words.COMPARE_WORDS.get(compare["mode"], compare["mode"]) if compare else None)
