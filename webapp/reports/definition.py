"""What every report shares: its scope (project, range, time zone, filters) and conditions."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from peewee import OperationalError

from webapp.db import database
from webapp.errors import BadReport, TooSlow  # noqa: F401 (BadReport: the reports raise it)
from webapp.reads import ranges
from webapp.reads.filters import Condition


@dataclass(frozen=True)
class Match:
    """Events of one type (or of any type when None) that meet every condition."""

    event_type: str | None
    conditions: tuple[Condition, ...] = ()

    def sql(self, alias: str, params: list) -> str:
        parts = []
        if self.event_type is not None:
            parts.append(f"{alias}.event_type = %s")
            params.append(self.event_type)
        parts.extend(condition.sql(alias, params) for condition in self.conditions)
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"


@dataclass(frozen=True)
class Scope:
    """Which events a report sees: one project, [start, end), and the property filters that
    every event must meet; `time_zone` (IANA) places day and week boundaries."""

    project_id: int
    start: datetime | None
    end: datetime | None
    time_zone: str = "UTC"
    filters: tuple[Condition, ...] = field(default=())

    def sql(self, alias: str, params: list) -> str:
        """`project = ... AND start <= timestamp < end AND filters` for the table `alias`."""
        parts = [f"{alias}.project_id = %s"]
        params.append(self.project_id)
        if self.start is not None:
            parts.append(f'{alias}."timestamp" >= %s')
            params.append(self.start)
        if self.end is not None:
            parts.append(f'{alias}."timestamp" < %s')
            params.append(self.end)
        parts.extend(condition.sql(alias, params) for condition in self.filters)
        return " AND ".join(parts)

    def previous(self) -> Scope:
        """The period of the same length that ends where this one starts (cut where the
        supported range begins)."""
        start, end = ranges.previous(self.start, self.end)
        return Scope(self.project_id, start, end, self.time_zone, self.filters)


WORK_MEM = "64MB"  # room for a report's sorts and hashes, so they stay in memory
TIME_LIMIT: ContextVar[int | None] = ContextVar("report_time_limit", default=None)


@contextmanager
def time_limit(milliseconds: int):
    """Reports run in this block give up after `milliseconds` with TooSlow."""
    token = TIME_LIMIT.set(max(1, int(milliseconds)))
    try:
        yield
    finally:
        TIME_LIMIT.reset(token)


def query(sql: str, params: list) -> list[tuple]:
    """A report's statement, in a transaction that gives it more sort and hash memory (and
    the time limit of the block it runs in, if any)."""
    limit = TIME_LIMIT.get()
    try:
        with database.atomic():
            database.execute_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
            if limit:
                database.execute_sql(f"SET LOCAL statement_timeout = {limit}")
            return database.execute_sql(sql, params).fetchall()
    except OperationalError as exc:
        if limit and "statement timeout" in str(exc):
            raise TooSlow() from None
        raise


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0
