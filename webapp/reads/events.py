"""Listing stored events: newest first, filtered, paged with an opaque cursor."""

from __future__ import annotations

import base64
from datetime import datetime

from peewee import SQL

from webapp.models import Event
from webapp.reads import filters
from webapp.reads.filters import Condition
from webapp.reads.windows import Window

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class BadQuery(ValueError):
    """A query parameter that cannot be used; the message names it."""


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise BadQuery(f'"limit" must be a whole number from 1 to {MAX_LIMIT}')
    return int(value)


def encode_cursor(event: Event) -> str:
    raw = f"{iso_micro(event.timestamp)}|{event.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        moment, row_id = raw.split("|")
        return datetime.fromisoformat(moment), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise BadQuery('"cursor" is not a cursor this API returned') from None


def iso_micro(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def list_events(project_id: int, window: Window, now: datetime, event_type: str | None = None,
                user_id: str | None = None, limit: int = DEFAULT_LIMIT,
                cursor: str | None = None, where: tuple[Condition, ...] = (),
                span: tuple[datetime, datetime] | None = None) -> dict:
    """One page of events in the window (or the [start, end) span), newest first, and the
    cursor of the next page."""
    start, end = span or (window.start(now), None)
    query = Event.select().where(Event.project == project_id, Event.timestamp >= start)
    if end is not None:
        query = query.where(Event.timestamp < end)
    if where:
        params: list = []
        query = query.where(SQL(filters.sql(where, "t1", params), params))
    if event_type:
        query = query.where(Event.event_type == event_type)
    if user_id:
        query = query.where(Event.user_id == user_id)
    if cursor:
        moment, row_id = decode_cursor(cursor)
        query = query.where((Event.timestamp < moment) |
                            ((Event.timestamp == moment) & (Event.id < row_id)))
    rows = list(query.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit + 1))
    page, more = rows[:limit], len(rows) > limit
    return {
        "events": [event.to_api() for event in page],
        "count": len(page),
        "filter": window.name,
        "nextCursor": encode_cursor(page[-1]) if more else None,
    }
