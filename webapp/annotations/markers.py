"""Where a chart draws its notes: a vertical line at an instant, a band over a range, placed
by the chart's buckets (pure geometry: no database, no request), for any chart of equal
slots per bucket: the dashboard's bars and the trends chart alike."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from webapp.reads.ranges import EARLIEST, day_start

MIN_BAND = 2.0  # a range narrower than this many units is still drawn this wide


@dataclass(frozen=True)
class Note:
    """An annotation as a chart needs it: at `starts_at`, or over [starts_at, ends_at)."""

    id: int
    text: str
    starts_at: datetime
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Marker:
    """A note on a chart: a line at `x` (`width` 0) or a band from `x` over `width`, from `top`
    down `height`; `title` says the note and its time in words for the hover and the table."""

    id: int
    x: float
    width: float
    top: float
    height: float
    title: str
    when: str  # the note's time alone, e.g. "Tue 10 Mar 2026 14:05 to 15:30 (Europe/Berlin)"
    text: str

    @property
    def band(self) -> bool:
        return self.width > 0


def when(note: Note, zone: str) -> str:
    """A note's time in words on the clocks of `zone`: "Tue 10 Mar 2026 14:05 (UTC)", or a
    range "Tue 10 Mar 2026 14:05 to 15:30 (UTC)" (the end's date only when it differs)."""
    tz = ZoneInfo(zone)
    start = note.starts_at.astimezone(tz)
    text = f"{start:%a} {start.day} {start:%b %Y %H:%M}"
    if note.ends_at is not None:
        end = note.ends_at.astimezone(tz)
        same_day = end.date() == start.date()
        text += f" to {end:%H:%M}" if same_day else f" to {end:%a} {end.day} {end:%b %Y %H:%M}"
    return f"{text} ({zone})"


def place(notes: Iterable[Note], starts: Sequence[datetime], end: datetime, *, left: float,
          width: float, top: float, height: float, zone: str) -> list[Marker]:
    """The markers of `notes` on a chart whose buckets start at `starts` (instants, oldest
    first) and whose last bucket ends at `end`, drawn as equal slots side by side from x
    `left` over `width`, and from y `top` down `height`.

    An instant is placed within its bucket in proportion to the time elapsed in it (a 23- or
    25-hour day is one slot all the same); a range is the band between its two ends, cut at
    the chart's edges. Notes wholly outside [starts[0], end) are left out."""
    if not starts or end <= starts[0]:
        return []
    slot = width / len(starts)
    edges = [*starts, end]

    def x_of(moment: datetime) -> float:
        if moment <= edges[0]:
            return left
        if moment >= end:
            return left + width
        i = bisect_right(edges, moment) - 1
        part = (moment - edges[i]) / (edges[i + 1] - edges[i])
        return left + slot * (i + part)

    found = []
    for note in notes:
        stop = note.ends_at or note.starts_at
        inside = note.starts_at < end and (stop > starts[0] if note.ends_at
                                           else stop >= starts[0])
        if not inside:
            continue
        x = x_of(note.starts_at)
        span = 0.0
        if note.ends_at is not None:
            span = max(x_of(note.ends_at) - x, MIN_BAND)
            x = min(x, left + width - span)
        moment = when(note, zone)
        found.append(Marker(note.id, round(x, 2), round(span, 2), top, height,
                            f"{note.text} · {moment}", moment, note.text))
    return found


def starts_of(buckets: Iterable[dict], zone: str) -> list[datetime]:
    """The start instants of buckets given as {"timestamp": ...} (the trends report's
    `buckets`, the statistics' `series`): an instant, or a local date of `zone` (its
    midnight)."""
    return [_midnight(text, zone) if len(text) == 10
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
            for text in (bucket["timestamp"] for bucket in buckets)]


def _midnight(text: str, zone: str) -> datetime:
    """A local date's first instant; the first supported one for a week that begins before
    it (the Monday of 0001-01-03's week has no instant in zones east of UTC)."""
    try:
        return max(day_start(date.fromisoformat(text), zone), EARLIEST)
    except OverflowError:
        return EARLIEST
