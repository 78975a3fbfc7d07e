"""The time zones a project may have: those both Python and PostgreSQL know."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from webapp.db import database


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ValueError for one that Python or PostgreSQL does not know
    (`localtime` is a file of Python's zone data, but no zone of PostgreSQL's)."""
    if not name or name not in python_zones() or name not in valid_zones():
        raise ValueError(f'"{name}" is not an IANA time zone (such as Europe/Paris)')
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'"{name}" is not an IANA time zone (such as Europe/Paris)') from None


_PYTHON_ZONES: frozenset[str] = frozenset()
_ZONES: frozenset[str] = frozenset()


def python_zones() -> frozenset[str]:
    """The zones Python's zone data holds."""
    global _PYTHON_ZONES
    if not _PYTHON_ZONES:
        _PYTHON_ZONES = frozenset({*available_timezones(), "UTC"})
    return _PYTHON_ZONES


def valid_zones() -> frozenset[str]:
    """The zones a project may have: those both Python and PostgreSQL know (the days and weeks
    of a project are counted in both). PostgreSQL is asked once a process."""
    global _ZONES
    if not _ZONES:
        rows = database.execute_sql("SELECT name FROM pg_timezone_names").fetchall()
        _ZONES = python_zones() & {name for (name,) in rows}
    return _ZONES
