"""Writing events: one statement inserts a batch and adds the rows it inserted to the rollups."""

from __future__ import annotations

from datetime import datetime

import orjson
from peewee import EXCLUDED

from webapp.db import database
from webapp.models import InvalidRollupMinute

# The batch travels as one JSON parameter that PostgreSQL unpacks (no per-row work in Python).
# Rows already stored (same project and event id) are skipped; only the rows actually inserted
# reach the per-minute and per-hour rollups, so a redelivered batch counts nothing twice.
# Rollup rows are written in one order (time, then type) by every writer, so two writers
# touching the same minutes cannot deadlock.
ROLLUP = """
by_{unit} AS (
    INSERT INTO event_rollup_{unit} (project_id, {unit}, event_type, count)
    SELECT %(project)s, date_trunc('{unit}', "timestamp", 'UTC'), event_type, count(*)
    FROM inserted GROUP BY 2, 3 ORDER BY 2, 3
    ON CONFLICT (project_id, {unit}, event_type)
    DO UPDATE SET count = event_rollup_{unit}.count + EXCLUDED.count
)"""
# `event` is partitioned by day on "timestamp", and each partition has its own unique
# (project_id, event_id) key: a repeat is skipped when it falls on the same UTC day as the
# first copy (always so for a redelivered batch or a repeat with the same timestamp). An event
# whose timestamp was the time received and whose id the sender chose (flag `d`) may be
# repeated after midnight: it is also looked for in the days before and after, so a repeat
# that arrives within 24 h is caught whatever the hour and whichever copy is stored first
# (Segment's promise for messageId).
STORE = """
WITH inserted AS (
    INSERT INTO event (project_id, event_id, event_type, user_id, "timestamp", metadata,
                       received_at)
    SELECT %(project)s, e.id, e.type, e."user", e.ts, e.meta, e.rcv
    FROM json_to_recordset(%(events)s::json)
         AS e(id text, type text, "user" text, ts timestamptz, meta jsonb, rcv timestamptz,
              d int)
    WHERE CASE WHEN e.d = 1 THEN NOT EXISTS (
        SELECT 1 FROM event seen
        WHERE seen.project_id = %(project)s AND seen.event_id = e.id
          AND seen."timestamp" >= date_trunc('day', e.ts, 'UTC') - interval '1 day'
          AND seen."timestamp" < date_trunc('day', e.ts, 'UTC') + interval '2 days')
    ELSE true END
    ORDER BY e.id
    ON CONFLICT DO NOTHING
    RETURNING event_type, "timestamp"
),""" + ",".join(ROLLUP.format(unit=unit) for unit in ("minute", "hour")) + """
SELECT count(*) FROM inserted
"""


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def store_batch(project_id: int, payload: list[dict]) -> int:
    """Insert a batch idempotently (project + event id) and update the rollups, in one
    statement and so one transaction; returns how many events were new."""
    cursor = database.execute_sql(
        STORE, {"project": project_id, "events": orjson.dumps(payload).decode()})
    return cursor.fetchone()[0]


def count_invalid(project_id: int, count: int, at: datetime) -> None:
    (InvalidRollupMinute.insert(project=project_id, minute=minute_of(at), count=count)
     .on_conflict(
         conflict_target=[InvalidRollupMinute.project, InvalidRollupMinute.minute],
         update={InvalidRollupMinute.count: InvalidRollupMinute.count + EXCLUDED.count})
     .execute())
