"""A trend's time buckets in the project's time zone: minutes, hours, days, weeks (Monday first)
and months, exact across changes of offset, and the ranges a trend is compared with.

A bucket is every instant with the same local label: its local date (days), the date of its
Monday (weeks), its year and month (months), or its local wall-clock minute or hour together
with the offset in force (minutes and hours). So a day on which clocks go forward has 23 hourly
buckets, one on which they go back 25 (the repeated hour twice, told apart by its offset), and
Australia/Lord_Howe's 30-minute change gives a half-hour bucket. Buckets are listed by the
instant they start at; the first starts at the range's start (counting never reaches before
it), the last ends at the range's end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from webapp.models import iso
from webapp.reads.ranges import EARLIEST, day_start, local_date

INTERVALS = ("minute", "hour", "day", "week", "month")
FINE_SECONDS = {"minute": 60, "hour": 3600}
MAX_MINUTE_RANGE = timedelta(days=1)
MAX_BUCKETS = 10_000
PRESETS = {"today": 1, "7d": 7, "30d": 30, "90d": 90, "month": None}
COMPARE = ("previous", "week", "year")


def default_interval(start: datetime, end: datetime) -> str:
    """As the stats ranges choose: hours up to 3 days, days up to 92, then weeks."""
    length = end - start
    return "hour" if length <= timedelta(days=3) else "day" if length <= timedelta(days=92) \
        else "week"


def problems_of(interval: str, start: datetime, end: datetime) -> list[str]:
    if interval not in INTERVALS:
        return [f"interval is one of {', '.join(INTERVALS)}"]
    if interval == "minute" and end - start > MAX_MINUTE_RANGE:
        return ["minutes are for ranges of up to a day: choose hour, day, week or month"]
    if interval == "hour" and end - start > timedelta(hours=MAX_BUCKETS - 1):
        return [f"at most {MAX_BUCKETS:,} buckets: choose day, week or month"]
    return []


def preset_range(name: str, zone: str, now: datetime) -> tuple[datetime, datetime]:
    """today, the last 7, 30 or 90 local days (today included), or this month so far."""
    today = local_date(now, zone)
    days = PRESETS[name]
    first = today.replace(day=1) if days is None else today - timedelta(days=days - 1)
    return day_start(first, zone), day_start(today + timedelta(days=1), zone)


def _offset(moment: datetime, tz: ZoneInfo) -> timedelta:
    return moment.astimezone(tz).utcoffset()


def _next_change(after: datetime, before: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (after, before] whose offset differs from `after`'s, to the
    microsecond (offsets change at most once within a bucket)."""
    low, high, offset = after, before, _offset(after, tz)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=middle.microsecond)
        if _offset(middle, tz) == offset:
            low = middle
        else:
            high = middle
    return high


def _fine(start: datetime, end: datetime, zone: str, seconds: int) -> list[datetime]:
    """Starts of the local minutes or hours (with their offsets) from `start` to `end`."""
    tz, step = ZoneInfo(zone), timedelta(seconds=seconds)
    starts, current = [], start
    while current < end:
        starts.append(current)
        offset = _offset(current, tz)
        wall = current.replace(tzinfo=None) + offset
        into = timedelta(minutes=wall.minute if seconds == 3600 else 0, seconds=wall.second,
                         microseconds=wall.microsecond)
        following = current - into + step  # the next wall-clock boundary at this offset
        if _offset(following - timedelta(microseconds=1), tz) != offset:
            following = _next_change(current, following - timedelta(microseconds=1), tz)
        current = following
    return starts


def _month_starts(first: date, last: date) -> list[date]:
    days, day = [], first.replace(day=1)
    while day <= last:
        days.append(day)
        if day.month == 12:
            if day.year == 9999:
                break
            day = day.replace(year=day.year + 1, month=1)
        else:
            day = day.replace(month=day.month + 1)
    return days


def starts(interval: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The instants (UTC) each bucket of [start, end) starts at, the first being `start`."""
    if interval in FINE_SECONDS:
        return _fine(start, end, zone, FINE_SECONDS[interval])
    first, last = local_date(start, zone), local_date(end - timedelta(microseconds=1), zone)
    if interval == "month":
        days = _month_starts(first, last)
    else:
        step = 7 if interval == "week" else 1
        if interval == "week":
            first -= timedelta(days=first.weekday())
        days = [first + timedelta(days=step * i) for i in range((last - first).days // step + 1)]
    return [max(start, day_start(day, zone)) for day in days]


def label(moment: datetime, interval: str, zone: str) -> str:
    """A bucket's name in the project's zone: its local date (days, weeks: the Monday, months:
    the first), or its local time with the offset (minutes, hours)."""
    local = moment.astimezone(ZoneInfo(zone))
    if interval in FINE_SECONDS:
        return local.isoformat(timespec="minutes")
    day = local.date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return day.isoformat()


def buckets(interval: str, zone: str, start: datetime, end: datetime) -> list[dict]:
    return [{"timestamp": iso(moment), "local": label(moment, interval, zone)}
            for moment in starts(interval, zone, start, end)]


def _wall_shift(moment: datetime, zone: str, days: int = 0, years: int = 0) -> datetime:
    """The same wall-clock time `days` or `years` earlier in `zone` (29 February a year
    earlier is the 28th)."""
    tz = ZoneInfo(zone)
    wall = moment.astimezone(tz).replace(tzinfo=None)
    if years:
        try:
            wall = wall.replace(year=wall.year - years)
        except ValueError:
            wall = wall.replace(year=wall.year - years, day=28)
    wall -= timedelta(days=days)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def compared(mode: str, start: datetime, end: datetime, zone: str
             ) -> tuple[datetime, datetime] | None:
    """The range a trend is compared with: the period of the same length just before, or
    the same local dates and times a week or a year earlier; None where that lies before
    the supported range."""
    try:
        if mode == "previous":
            span = start - (end - start), start
        elif mode == "week":
            span = _wall_shift(start, zone, days=7), _wall_shift(end, zone, days=7)
        else:
            span = _wall_shift(start, zone, years=1), _wall_shift(end, zone, years=1)
    except (ValueError, OverflowError):
        return None
    return span if span[0] >= EARLIEST and span[0] < span[1] else None
