"""Date ranges in a project's time zone: `from`/`to` as inclusive dates or as instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_DAYS = 30
MAX_DAYS = 400


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ValueError for one that does not exist."""
    if not name or name not in valid_zones():
        raise ValueError(f'"{name}" is not an IANA time zone (such as Europe/Paris)')
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'"{name}" is not an IANA time zone (such as Europe/Paris)') from None


_ZONES: set[str] = set()


def valid_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
        _ZONES.add("UTC")
    return _ZONES


def local_date(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def day_start(day: date, time_zone: str) -> datetime:
    """The first instant of a local date (where midnight does not exist, as PostgreSQL does:
    the wall-clock time is read with the offset in force before the change)."""
    return datetime.combine(day, time(), ZoneInfo(time_zone)).astimezone(UTC)


def _parse_bound(text: str, name: str, time_zone: str, problems: list[str]):
    """A date (local, whole day) or an instant (with an offset; none means the project zone)."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f'"{name}" must be a date (2026-03-08) or an instant '
                        f'(2026-03-08T09:30:00Z), not "{text}"')
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment.astimezone(UTC)


def parse_range(start: str | None, end: str | None, time_zone: str, now: datetime,
                problems: list[str]) -> tuple[datetime, datetime]:
    """[start, end) instants for `from`/`to`: a `to` date includes that whole local day, an
    instant is exclusive. Without them, the last 30 local days, today included."""
    today = local_date(now, time_zone)
    lower = _parse_bound(start, "from", time_zone, problems) if start else \
        today - timedelta(days=DEFAULT_DAYS - 1)
    upper = _parse_bound(end, "to", time_zone, problems) if end else today
    if lower is None or upper is None:
        return now, now
    if isinstance(lower, date) and not isinstance(lower, datetime):
        lower = day_start(lower, time_zone)
    if isinstance(upper, date) and not isinstance(upper, datetime):
        upper = day_start(upper + timedelta(days=1), time_zone)
    if upper <= lower:
        problems.append('"to" must be after "from"')
    elif upper - lower > timedelta(days=MAX_DAYS):
        problems.append(f"a range spans at most {MAX_DAYS} days")
    return lower, upper
