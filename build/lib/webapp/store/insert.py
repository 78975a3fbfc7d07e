"""Writing events: one statement inserts a batch and adds the rows it inserted to the rollups."""

from __future__ import annotations

from datetime import datetime

import orjson
from peewee import EXCLUDED, IntegrityError, InterfaceError, OperationalError

from webapp.db import database
from webapp.models import InvalidRollupMinute

# The batch travels as one JSON parameter that PostgreSQL unpacks (no per-row work in Python).
# Only the rows actually inserted reach the per-minute and per-hour rollups (the hours are
# summed from the batch's few minute groups), so a redelivered batch counts nothing twice.
# Rollup rows are written in one order (time, then type) by every writer, so two writers
# touching the same minutes cannot deadlock.
ROLLUPS = """,
minutes AS (
    SELECT date_trunc('minute', "timestamp", 'UTC') AS minute, event_type, count(*) AS n
    FROM inserted GROUP BY 1, 2
),
by_minute AS (
    INSERT INTO event_rollup_minute (project_id, minute, event_type, count)
    SELECT %(project)s, minute, event_type, n FROM minutes ORDER BY 2, 3
    ON CONFLICT (project_id, minute, event_type)
    DO UPDATE SET count = event_rollup_minute.count + EXCLUDED.count
),
by_hour AS (
    INSERT INTO event_rollup_hour (project_id, hour, event_type, count)
    SELECT %(project)s, date_trunc('hour', minute, 'UTC'), event_type, sum(n) FROM minutes
    GROUP BY 2, 3 ORDER BY 2, 3
    ON CONFLICT (project_id, hour, event_type)
    DO UPDATE SET count = event_rollup_hour.count + EXCLUDED.count
)
SELECT count(*) FROM inserted
"""
# `event` is partitioned by day on "timestamp", and each partition has its own unique
# (project_id, event_id) key: a repeat is skipped when it falls on the same UTC day as the
# first copy (always so for a redelivered batch or a repeat with the same timestamp). An event
# whose timestamp was the time received and whose id the sender chose (d = 2) may be repeated
# after midnight: it is also looked for in the days before and after, so a repeat that
# arrives within 24 h is caught whatever the hour and whichever copy is stored first
# (Segment's promise for messageId).
ROWS = """
    SELECT %(project)s, e.id, e.type, e."user", e.ts, e.meta, e.rcv
    FROM json_to_recordset(%(events)s::json)
         AS e(id text, type text, "user" text, ts timestamptz, meta jsonb, rcv timestamptz,
              d int)
"""
INSERT = """
WITH inserted AS (
    INSERT INTO event (project_id, event_id, event_type, user_id, "timestamp", metadata,
                       received_at)"""
STORE = INSERT + ROWS + """
    WHERE CASE WHEN e.d = 2 THEN NOT EXISTS (
        SELECT 1 FROM event seen
        WHERE seen.project_id = %(project)s AND seen.event_id = e.id
          AND seen."timestamp" >= date_trunc('day', e.ts, 'UTC') - interval '1 day'
          AND seen."timestamp" < date_trunc('day', e.ts, 'UTC') + interval '2 days')
    ELSE true END
    ORDER BY e.id
    ON CONFLICT DO NOTHING
    RETURNING event_type, "timestamp"
)""" + ROLLUPS
# A batch whose ids all came from us (UUIDv7, made at ingest) can only repeat as a whole, when
# its message is delivered again after a commit: it is first written as a plain INSERT, which
# skips ON CONFLICT's per-row speculative insertion; the unique key refuses a repeat, and the
# batch is then written the careful way (and adds nothing).
STORE_FRESH = INSERT + ROWS + """
    ORDER BY e.id
    RETURNING event_type, "timestamp"
)""" + ROLLUPS


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def fresh_ids_only(payload: list[dict]) -> bool:
    """No event of the batch carries an id its sender chose (those may repeat one by one)."""
    return not any("d" in item for item in payload)


def store_batch(project_id: int, payload: list[dict]) -> int:
    """Insert a batch idempotently (project + event id) and update the rollups, in one
    statement and so one transaction; returns how many events were new."""
    params = {"project": project_id, "events": orjson.dumps(payload).decode()}
    if fresh_ids_only(payload):
        try:
            with database.atomic():
                return database.execute_sql(STORE_FRESH, params).fetchone()[0]
        except IntegrityError:  # delivered again after its commit
            pass
    return database.execute_sql(STORE, params).fetchone()[0]


RETRYABLE = (OperationalError, InterfaceError)  # PostgreSQL away or restarting: not the rows


def store_isolating(project_id: int, payload: list[dict]) -> tuple[int, list[tuple[dict, str]]]:
    """Store every event PostgreSQL accepts: a refused batch is split in halves until each
    refusal is one event. Returns (events inserted, [(refused event, why)]).

    Each part is its own statement and transaction, so a redelivery after a failure part way
    stores nothing twice. Errors of an unreachable database propagate (RETRYABLE)."""
    try:
        return store_batch(project_id, payload), []
    except RETRYABLE:
        raise
    except Exception as exc:  # this batch holds at least one event PostgreSQL refuses
        if len(payload) == 1:
            return 0, [(payload[0], f"{type(exc).__name__}: {exc}".strip())]
    half = len(payload) // 2
    first, refused_first = store_isolating(project_id, payload[:half])
    second, refused_second = store_isolating(project_id, payload[half:])
    return first + second, refused_first + refused_second


def count_invalid(project_id: int, count: int, at: datetime) -> None:
    (InvalidRollupMinute.insert(project=project_id, minute=minute_of(at), count=count)
     .on_conflict(
         conflict_target=[InvalidRollupMinute.project, InvalidRollupMinute.minute],
         update={InvalidRollupMinute.count: InvalidRollupMinute.count + EXCLUDED.count})
     .execute())
