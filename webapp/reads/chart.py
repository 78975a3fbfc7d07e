"""The events-per-bucket chart as SVG geometry, computed on the server (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

WIDTH, HEIGHT = 600, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26  # room for the axis labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str  # "14:05 UTC: 12 events", the hover title


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int
    y_ticks: list[tuple[float, int]]  # (y, value)
    x_labels: list[tuple[float, str]]  # (x, text)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    top: int = TOP
    right: int = WIDTH - RIGHT  # the plot's right edge (the bars lie between left and right)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^k that is >= value (so axis ticks are round numbers)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def time_label(moment: datetime, bucket_seconds: int) -> str:
    if bucket_seconds >= 86400:
        return moment.strftime("%a %b %d")
    return moment.strftime("%H:%M" if bucket_seconds < 3 * 3600 else "%a %H:%M")


def moment_of(point: dict, zone: str) -> datetime:
    """A point's time as labelled: its "local" time (a range in a project's zone), else its
    instant on the clocks of `zone`."""
    if "local" in point:
        return datetime.fromisoformat(point["local"])
    moment = datetime.fromisoformat(point["timestamp"])
    return moment if zone == "UTC" else moment.astimezone(ZoneInfo(zone))


def build(series: list[dict], bucket_seconds: int, zone: str = "UTC") -> Chart:
    """Bars for a series of {"timestamp", "count"} points (oldest first), labelled with their
    times in `zone`."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = nice_ceiling(max((p["count"] for p in series), default=0))
    slot = plot_w / max(len(series), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for i, point in enumerate(series):
        moment = moment_of(point, zone)
        height = plot_h * point["count"] / peak
        noun = "event" if point["count"] == 1 else "events"
        bars.append(Bar(
            x=round(LEFT + i * slot + gap / 2, 2), y=round(TOP + plot_h - height, 2),
            width=round(slot - gap, 2), height=round(height, 2), count=point["count"],
            label=f"{time_label(moment, bucket_seconds)} {zone}: {point['count']} {noun}",
        ))
    y_ticks = [(round(TOP + plot_h * (1 - f), 2), round(peak * f)) for f in (0, 0.5, 1)]
    picks = sorted({0, len(series) // 2, len(series) - 1}) if series else []
    x_labels = [(round(LEFT + (i + 0.5) * slot, 2),
                 time_label(moment_of(series[i], zone), bucket_seconds))
                for i in picks]
    return Chart(bars, peak, y_ticks, x_labels)
