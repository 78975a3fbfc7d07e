"""Writing events: one transaction inserts a batch and updates rollups for the rows inserted."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import orjson
from peewee import EXCLUDED

from .db import database
from .models import EventRollupHour, EventRollupMinute, InvalidRollupMinute

COLUMNS = ("project_id", "event_id", "event_type", "user_id", '"timestamp"', "metadata",
           "received_at")
STAGING = """
CREATE TEMP TABLE IF NOT EXISTS event_staging (
    project_id INTEGER, event_id VARCHAR(100), event_type VARCHAR(64), user_id VARCHAR(128),
    "timestamp" TIMESTAMPTZ, metadata JSONB, received_at TIMESTAMPTZ
) ON COMMIT DELETE ROWS
"""
COPY = f"COPY event_staging ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
INSERT = """
INSERT INTO event (project_id, event_id, event_type, user_id, "timestamp", metadata, received_at)
SELECT project_id, event_id, event_type, user_id, "timestamp", metadata, received_at
FROM event_staging ORDER BY event_id
ON CONFLICT (project_id, event_id) DO NOTHING
RETURNING event_type, "timestamp", user_id
"""


@dataclass(frozen=True)
class Inserted:
    """One row the batch actually added (a duplicate adds none)."""

    event_type: str
    timestamp: datetime
    user_id: str


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def csv_rows(project_id: int, payload: list[dict]) -> io.StringIO:
    """Queue payload as CSV for COPY (CSV quoting keeps any text intact)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for item in payload:
        writer.writerow((project_id, item["id"], item["type"], item["user"], item["ts"],
                         orjson.dumps(item["meta"]).decode(), item["rcv"]))
    buffer.seek(0)
    return buffer


def _upsert(model, key_field, project_id: int, counts: Counter) -> None:
    if not counts:
        return
    rows = [{"project": project_id, key_field.name: moment, "event_type": event_type, "count": n}
            for (moment, event_type), n in sorted(counts.items())]  # one lock order for all
    (model.insert_many(rows)
     .on_conflict(conflict_target=[model.project, key_field, model.event_type],
                  update={model.count: model.count + EXCLUDED.count})
     .execute())


def add_to_rollups(project_id: int, inserted: list[Inserted]) -> None:
    """Add the inserted rows to the per-minute and per-hour rollups."""
    _upsert(EventRollupMinute, EventRollupMinute.minute, project_id,
            Counter((minute_of(row.timestamp), row.event_type) for row in inserted))
    _upsert(EventRollupHour, EventRollupHour.hour, project_id,
            Counter((hour_of(row.timestamp), row.event_type) for row in inserted))


def store_batch(project_id: int, payload: list[dict]) -> list[Inserted]:
    """Insert a batch idempotently (project + event id) with one COPY and one INSERT;
    returns the rows that were new."""
    with database.atomic():
        cursor = database.cursor()
        cursor.execute(STAGING)
        cursor.copy_expert(COPY, csv_rows(project_id, payload))
        cursor.execute(INSERT)
        inserted = [Inserted(*row) for row in cursor.fetchall()]
        add_to_rollups(project_id, inserted)
    return inserted


def count_invalid(project_id: int, count: int, at: datetime) -> None:
    (InvalidRollupMinute.insert(project=project_id, minute=minute_of(at), count=count)
     .on_conflict(
         conflict_target=[InvalidRollupMinute.project, InvalidRollupMinute.minute],
         update={InvalidRollupMinute.count: InvalidRollupMinute.count + EXCLUDED.count})
     .execute())
