"""Funnels and breakdowns as SVG geometry, laid out on the server: a funnel's steps as bars with
the previous period's bar beside each, labelled with users, conversion and the median time
from step 1; a breakdown's values (and a funnel's, by conversion) as horizontal bars. Every
bar has a hover title and every chart an accessible name; colours are CSS classes, as the
page's CSP allows no inline styles."""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.reports import reportwords as words
from webapp.reports.trendwords import number

WIDTH = 900
CHAR_W = 7.2  # about one character of the 13px label text
# funnel: room above the bars for their values, and under them for three lines of labels
TOP, PLOT_H, LINE_H = 22, 170, 16
BOTTOM = 3 * LINE_H + 10
# horizontal bars: a row per value, its name left of the bar, its numbers right of it
ROW_H, BAR_H, NAME_CHARS, NUMBERS_W = 26, 16, 28, 150


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    css: str = "label"
    anchor: str = "middle"


@dataclass(frozen=True)
class Drawing:
    """A chart: its accessible name, its marks, and its legend ((class, words) pairs)."""

    key: str  # the id of its <title>, unique on the page
    title: str
    width: int
    height: int
    css: str
    rects: list[Rect] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    axis: list[tuple[float, float, float, float]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def clip(text: str, room: float) -> str:
    """`text` cut with "…" to about `room` pixels of label text."""
    most = max(3, int(room / CHAR_W + 1e-6))  # (7.2 * 4 / 7.2 is a hair under 4)
    return text if len(text) <= most else text[: most - 1] + "…"


def funnel(data: dict) -> Drawing:
    """One bar per step, as tall as its users; the previous period's bar beside it, lighter;
    under each, the step, its conversion from step 1 and the median time to reach it."""
    steps = data["steps"]
    before = (data.get("previous") or {}).get("steps") or []
    count = len(steps)
    slot = (WIDTH - 16) / count
    group = min(slot * 0.72, 200)
    now_w = group * (0.56 if before else 1)
    then_w = group - now_w - 3 if before else 0
    top = max([s["users"] for s in steps] + [s["users"] for s in before] + [1])
    bottom = TOP + PLOT_H

    def height(value: int) -> float:
        return round(PLOT_H * value / top, 2)

    rects, texts = [], []
    for i, step in enumerate(steps):
        x = 8 + slot * i + (slot - group) / 2
        name = f"{step['step']}. {words.step_name(step)}"
        h = height(step["users"])
        rects.append(Rect(round(x, 2), round(bottom - h, 2), round(now_w, 2), h, "bar now",
                          f"{name}: {words.users(step['users'])}, "
                          f"{words.percentage(step['conversionFromFirst'])} of step 1"
                          + (f", median {words.duration(step['medianSeconds'])} from step 1"
                             if i else "")))
        texts.append(Text(round(x + now_w / 2, 2), round(bottom - h - 6, 2),
                          number(step["users"]), "value"))
        if i < len(before):
            old = before[i]
            h_old = height(old["users"])
            x_old = x + now_w + 3
            rects.append(Rect(round(x_old, 2), round(bottom - h_old, 2), round(then_w, 2),
                              h_old, "bar previous",
                              f"{name}, previous period: {words.users(old['users'])}, "
                              f"{words.percentage(old['conversionFromFirst'])} of step 1"))
            texts.append(Text(round(x_old + then_w / 2, 2), round(bottom - h_old - 6, 2),
                              number(old["users"]), "value previous"))
        middle = round(8 + slot * (i + 0.5), 2)
        room = slot - 6
        texts.append(Text(middle, bottom + LINE_H, clip(name, room)))
        texts.append(Text(middle, bottom + 2 * LINE_H,
                          clip(f"{words.percentage(step['conversionFromFirst'])} of step 1"
                               if i else "100% (start)", room), "label strong"))
        if i:
            texts.append(Text(middle, bottom + 3 * LINE_H,
                              clip(f"median {words.duration(step['medianSeconds'])}", room),
                              "label muted"))
    legend = [("now", f"{words.local_range(data['from'], data['to'], data['timeZone'])} "
                      f"({data['timeZone']})")]
    if before:
        legend.append(("previous", f"previous period, {words.previous_range(data)}"))
    title = (f"Funnel of {count} steps: {words.funnel_summary(data)}. "
             + "; ".join(f"step {s['step']}, {words.step_name(s)}: {words.users(s['users'])}"
                         for s in steps))
    return Drawing("funnel", title, WIDTH, TOP + PLOT_H + BOTTOM, "funnel-chart", rects, texts,
                   [(4, bottom, WIDTH - 4, bottom)], legend)


def bars(key: str, title: str, items: list[tuple[str, float, str, str]]) -> Drawing:
    """Horizontal bars, longest first as given: (name, value, numbers shown after the bar,
    extra class) for each; a bar's length is its value's share of the largest."""
    longest = max((len(name) for name, *_ in items), default=4)
    name_w = 12 + CHAR_W * min(longest, NAME_CHARS)
    room = WIDTH - name_w - NUMBERS_W
    top = max([value for _, value, *_ in items] + [0]) or 1
    rects, texts = [], []
    for i, (name, value, shown, css) in enumerate(items):
        y = 4 + i * ROW_H
        width = round(room * max(value, 0) / top, 2)
        rects.append(Rect(round(name_w, 2), y, width, BAR_H, f"bar {css}".strip(),
                          f"{name}: {shown}"))
        texts.append(Text(round(name_w - 8, 2), y + 12, clip(name, name_w - 12), "label",
                          "end"))
        texts.append(Text(round(name_w + width + 6, 2), y + 12, shown, "value", "start"))
    return Drawing(key, title, WIDTH, max(len(items), 1) * ROW_H + 8, "bars-chart", rects,
                   texts, [(name_w, 0, name_w, max(len(items), 1) * ROW_H + 8)])


def funnel_breakdown(data: dict) -> Drawing | None:
    """A bar per value of the breakdown's property: the share of its users at step 1 who
    reached the last step."""
    if not data.get("breakdown"):
        return None
    items = []
    for group in data["breakdown"]:
        first, last = group["steps"][0], group["steps"][-1]
        part = words.share(last, first) or 0.0
        css = "other" if group["other"] else ("none" if group["value"] is None else "")
        items.append((words.value_name(group["value"], group["other"]), part,
                      f"{words.percentage(part)} ({number(last)} of {number(first)})", css))
    prop = data["breakdownProperty"]
    title = (f"Conversion from step 1 to the last by {prop}: "
             + "; ".join(f"{name} {shown}" for name, _, shown, _ in items))
    return bars("funnel-breakdown", title, items)


def breakdown(data: dict) -> Drawing:
    """A bar per value of the property (and the other values'), as long as its events."""
    items = []
    for name, count, _, part, css in words.breakdown_rows(data):
        items.append((name, count, f"{words.events(count)} · {words.percentage(part)}", css))
    title = (f"Events by {data['property']}, {words.breakdown_summary(data)}: "
             + "; ".join(f"{name} {shown}" for name, _, shown, _ in items))
    return bars("breakdown", title, items)
