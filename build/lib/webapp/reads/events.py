"""Listing stored events: newest first, filtered, paged with an opaque cursor."""

from __future__ import annotations

import base64
import re
from datetime import datetime

from peewee import SQL

from webapp.errors import BadQuery
from webapp.models import Event
from webapp.reads import filters
from webapp.reads.filters import Condition
from webapp.reads.retention import kept_since
from webapp.reads.windows import Window

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


WHOLE = re.compile(r"[0-9]{1,19}")  # ASCII digits only: str.isdigit also takes "²" and "٣"


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not WHOLE.fullmatch(value) or not 1 <= int(value) <= MAX_LIMIT:
        raise BadQuery(f'"limit" must be a whole number from 1 to {MAX_LIMIT}')
    return int(value)


def encode_cursor(event: Event) -> str:
    raw = f"{iso_micro(event.timestamp)}|{event.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        text, row_id = raw.split("|")
        moment = datetime.fromisoformat(text)
        if not moment.tzinfo or moment.utcoffset() or not WHOLE.fullmatch(row_id):
            raise ValueError(raw)
        return moment, int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise BadQuery('"cursor" is not a cursor this API returned') from None


def iso_micro(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def list_events(project_id: int, window: Window, now: datetime, event_type: str | None = None,
                user_id: str | None = None, limit: int = DEFAULT_LIMIT,
                cursor: str | None = None, raw_metadata: bool = False, source=None,
                where: tuple[Condition, ...] = (),
                span: tuple[datetime, datetime] | None = None) -> dict:
    """One page of events in the window (or the [start, end) span), newest first, and the
    cursor of the next page (`raw_metadata`: each event's metadata as its stored JSON, for
    orjson to pass through); `source` is the database to read (the primary unless given, see
    reads/replica.py)."""
    start, end = span or (window.start(now), None)
    start = max(start, kept_since(project_id, now))
    # metadata as its JSON text, passed through as is: JSONB numbers of any size, exactly
    query = Event.select(*[field for field in Event._meta.sorted_fields
                           if field is not Event.metadata],
                         Event.metadata.cast("text").alias("metadata_json"))
    query = query.where(Event.project == project_id, Event.timestamp >= start)
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
    query = query.order_by(Event.timestamp.desc(), Event.id.desc()).limit(limit + 1)
    rows = list(query.bind(source) if source is not None else query)
    page, more = rows[:limit], len(rows) > limit
    return {
        "events": [event.to_api(raw_metadata) for event in page],
        "count": len(page),
        "filter": window.name,
        "nextCursor": encode_cursor(page[-1]) if more else None,
    }
