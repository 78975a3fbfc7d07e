"""Writing events: one transaction inserts a batch and updates rollups for the rows inserted."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from peewee import EXCLUDED

from .db import database
from .models import Event, EventRollupMinute, InvalidRollupMinute


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def event_rows(project_id: int, payload: list[dict]) -> list[dict]:
    """Queue payload to table rows, sorted by event id so concurrent writers lock in one order."""
    rows = [
        {
            "project": project_id,
            "event_id": item["id"],
            "event_type": item["type"],
            "user_id": item["user"],
            "timestamp": datetime.fromisoformat(item["ts"]),
            "metadata": item["meta"],
            "received_at": datetime.fromisoformat(item["rcv"]),
        }
        for item in payload
    ]
    rows.sort(key=lambda row: row["event_id"])
    return rows


def add_to_rollups(project_id: int, inserted: list[tuple[str, datetime]]) -> None:
    """Add inserted (type, timestamp) pairs to the per-minute rollups, in key order."""
    counts = Counter((minute_of(moment), event_type) for event_type, moment in inserted)
    if not counts:
        return
    rows = [
        {"project": project_id, "minute": minute, "event_type": event_type, "count": n}
        for (minute, event_type), n in sorted(counts.items())
    ]
    (EventRollupMinute.insert_many(rows)
     .on_conflict(
         conflict_target=[EventRollupMinute.project, EventRollupMinute.minute,
                          EventRollupMinute.event_type],
         update={EventRollupMinute.count: EventRollupMinute.count + EXCLUDED.count})
     .execute())


def store_batch(project_id: int, payload: list[dict]) -> int:
    """Insert a batch idempotently (project + event id); returns how many rows were new."""
    rows = event_rows(project_id, payload)
    with database.atomic():
        cursor = (Event.insert_many(rows)
                  .on_conflict_ignore()
                  .returning(Event.event_type, Event.timestamp)
                  .tuples()
                  .execute())
        inserted = list(cursor)
        add_to_rollups(project_id, inserted)
    return len(inserted)


def count_invalid(project_id: int, count: int, at: datetime) -> None:
    (InvalidRollupMinute.insert(project=project_id, minute=minute_of(at), count=count)
     .on_conflict(
         conflict_target=[InvalidRollupMinute.project, InvalidRollupMinute.minute],
         update={InvalidRollupMinute.count: InvalidRollupMinute.count + EXCLUDED.count})
     .execute())
