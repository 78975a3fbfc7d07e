"""Writing events: one statement inserts a batch and adds the rows it inserted to the rollups."""

from __future__ import annotations

from datetime import datetime

import orjson
from peewee import EXCLUDED, InterfaceError, OperationalError

from webapp.db import database
from webapp.models import InvalidRollupMinute

# The batch travels as one JSON parameter that PostgreSQL unpacks (no per-row work in Python).
# Rows already stored (same project and event id) are skipped; only the rows actually inserted
# reach the per-minute and per-hour rollups, so a redelivered batch counts nothing twice.
# An id derived from a delivery (`delivery:<key>`) is also skipped when the same delivery was
# stored before derived ids had their prefix (a sender retrying across the upgrade).
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
STORE = """
WITH inserted AS (
    INSERT INTO event (project_id, event_id, event_type, user_id, "timestamp", metadata,
                       received_at)
    SELECT %(project)s, e.id, e.type, e."user", e.ts, e.meta, e.rcv
    FROM json_to_recordset(%(events)s::json)
         AS e(id text, type text, "user" text, ts timestamptz, meta jsonb, rcv timestamptz)
    WHERE e.id NOT LIKE 'delivery:%%' OR NOT EXISTS (
        SELECT 1 FROM event legacy, delivery_namespace
        WHERE legacy.project_id = %(project)s AND legacy.event_id = substr(e.id, 10)
          AND legacy.received_at < delivery_namespace.since)
    ORDER BY e.id
    ON CONFLICT (project_id, event_id) DO NOTHING
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
