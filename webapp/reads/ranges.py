"""Date ranges in a project's time zone: `from`/`to` as inclusive dates or as instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAYS = 30
MAX_DAYS = 400
# The instants a range may start and end at. Beyond them, the arithmetic of a range would leave
# the years 1 to 9999 that dates have: local dates in zones up to 16 hours from UTC, the day
# after a range's last day, the Monday of its first week, retention's periods after its last
# day. The period before a range (shown beside it) is cut at EARLIEST.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
SUPPORTED = ("from 0001-01-02T00:00:00Z to 9999-12-30T00:00:00Z (as dates, from 0001-01-03 "
             "to 9999-12-28 in every time zone)")


def local_date(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def day_start(day: date, time_zone: str) -> datetime:
    """The first instant of a local date (where midnight does not exist, as PostgreSQL does:
    the wall-clock time is read with the offset in force before the change)."""
    return datetime.combine(day, time(), ZoneInfo(time_zone)).astimezone(UTC)


def _parse_bound(text: str, name: str, time_zone: str, problems: list[str], *,
                 end: bool = False) -> datetime | None:
    """A date (local, whole day: the instant it starts, or with `end` the instant after it)
    or an instant (with an offset; none means the project zone), in UTC; None (a problem
    listed) for one that is not, or that lies outside the supported range."""
    try:
        if len(text) == 10:
            day, moment = date.fromisoformat(text), None
        else:
            day, moment = None, datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        problems.append(f'"{name}" must be a date (2026-03-08) or an instant '
                        f'(2026-03-08T09:30:00Z), not "{text}"')
        return None
    try:
        if day is not None:
            moment = day_start(day + timedelta(days=1) if end else day, time_zone)
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(time_zone))
        moment = moment.astimezone(UTC)
    except OverflowError:  # no UTC time at all (0001-01-01T00:00:00+05:00, 9999-12-31 ends)
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        problems.append(f'"{name}" must lie {SUPPORTED}, not "{text}"')
        return None
    return moment


def parse_instant(text: str, name: str, time_zone: str, problems: list[str], *,
                  end: bool = False) -> datetime | None:
    """One instant given as a date (its local midnight; with `end`, the midnight after it) or
    an instant (on the project's clocks without an offset), in UTC; None (a problem listed,
    naming it `name`) for one that is not, or that lies outside the supported range."""
    return _parse_bound(text, name, time_zone, problems, end=end)


def parse_range(start: str | None, end: str | None, time_zone: str, now: datetime,
                problems: list[str]) -> tuple[datetime, datetime]:
    """[start, end) instants for `from`/`to`: a `to` date includes that whole local day, an
    instant is exclusive. Without them, the last 30 local days, today included. Both lie in
    [EARLIEST, LATEST]."""
    today = local_date(now, time_zone)
    lower = _parse_bound(start, "from", time_zone, problems) if start else \
        day_start(today - timedelta(days=DEFAULT_DAYS - 1), time_zone)
    upper = _parse_bound(end, "to", time_zone, problems, end=True) if end else \
        day_start(today + timedelta(days=1), time_zone)
    if lower is None or upper is None:
        return now, now
    if upper <= lower:
        problems.append('"to" must be after "from"')
    elif upper - lower > timedelta(days=MAX_DAYS):
        problems.append(f"a range spans at most {MAX_DAYS} days")
    return lower, upper


def previous(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length that ends where [start, end) starts, cut at EARLIEST."""
    return start - min(end - start, start - EARLIEST), start
