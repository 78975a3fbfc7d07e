"""Streaming export of a project's events as CSV, NDJSON or JSON, in constant memory."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import datetime

import orjson

from webapp.db import database
from webapp.models import iso
from webapp.reads import filters
from webapp.reads.filters import Condition

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "json": "application/json",
}
COLUMNS = ["id", "eventType", "userId", "timestamp", "receivedAt", "metadata"]
FETCH = 2000  # rows per round trip of the server-side cursor


def rows(project_id: int, start: datetime | None, event_type: str | None = None,
         user_id: str | None = None, where: tuple[Condition, ...] = (),
         end: datetime | None = None) -> Iterator[tuple]:
    """(id, type, user, timestamp, received, metadata JSON text), newest first, streamed."""
    params: list = [project_id]
    sql = ("SELECT event_id, event_type, user_id, \"timestamp\", received_at, metadata::text "
           "FROM event e WHERE project_id = %s AND " + filters.sql(where, "e", params))
    for clause, value in (("\"timestamp\" >= %s", start), ("\"timestamp\" < %s", end),
                          ("event_type = %s", event_type),
                          ("user_id = %s", user_id)):
        if value:
            sql += f" AND {clause}"
            params.append(value)
    sql += " ORDER BY \"timestamp\" DESC, id DESC"
    name = f"export_{uuid.uuid4().hex}"
    with database.atomic():  # a server-side cursor lives inside a transaction
        database.execute_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", params)
        while batch := database.execute_sql(f"FETCH {FETCH} FROM {name}").fetchall():
            yield from batch
        database.execute_sql(f"CLOSE {name}")


def csv_chunks(source: Iterator[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for count, (event_id, kind, user, moment, received, metadata) in enumerate(source, 1):
        writer.writerow([event_id, kind, user, iso(moment), iso(received), metadata])
        if count % FETCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_line(row: tuple) -> bytes:
    event_id, kind, user, moment, received, metadata = row
    head = orjson.dumps({"id": event_id, "eventType": kind, "userId": user,
                         "timestamp": iso(moment), "receivedAt": iso(received)})
    return head[:-1] + b',"metadata":' + metadata.encode() + b"}"


def ndjson_chunks(source: Iterator[tuple]) -> Iterator[bytes]:
    batch: list[bytes] = []
    for row in source:
        batch.append(_json_line(row))
        if len(batch) == FETCH:
            yield b"\n".join(batch) + b"\n"
            batch = []
    if batch:
        yield b"\n".join(batch) + b"\n"


def json_chunks(source: Iterator[tuple]) -> Iterator[bytes]:
    yield b"["
    first = True
    for chunk in ndjson_chunks(source):
        lines = chunk.rstrip(b"\n").split(b"\n")
        yield (b"" if first else b",") + b",".join(lines)
        first = False
    yield b"]\n"


WRITERS = {"csv": csv_chunks, "ndjson": ndjson_chunks, "json": json_chunks}
