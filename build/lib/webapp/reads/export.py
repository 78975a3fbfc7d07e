"""Streaming export of a project's events as CSV, NDJSON or JSON, in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
from flask import current_app

from webapp.models import iso
from webapp.reads import filters
from webapp.reads.filters import Condition
from webapp.reads.replica import reader
from webapp.reads.retention import kept_since

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
    """(id, type, user, timestamp, received, metadata JSON text), newest first, streamed;
    never older than the project's retention.

    Read in pages of FETCH rows, each a short indexed query after the last (timestamp, id)
    seen, on a connection given back to the pool before the page is sent: however slowly the
    reader takes it, an export holds no database connection and no transaction meanwhile.
    Pages come from the replica while it keeps up (reads/replica.py). The retention is read
    here, while the request's application context is still there (not when streaming)."""
    floor = kept_since(project_id, datetime.now(UTC))
    start = floor if start is None else max(start, floor)
    params: list = [project_id]
    sql = ("SELECT event_id, event_type, user_id, \"timestamp\", received_at, metadata::text, id "
           "FROM event e WHERE project_id = %s AND " + filters.sql(where, "e", params))
    for clause, value in (("\"timestamp\" >= %s", start), ("\"timestamp\" < %s", end),
                          ("event_type = %s", event_type),
                          ("user_id = %s", user_id)):
        if value:
            sql += f" AND {clause}"
            params.append(value)
    return _pages(current_app._get_current_object(), sql, params)


def _pages(app, sql: str, params: list) -> Iterator[tuple]:
    """The rows of `sql`, newest first, a page at a time (each page in its own app context:
    the response streams after the request's context has gone)."""
    after: tuple = ()
    while True:
        page_sql = sql + (" AND (\"timestamp\", id) < (%s, %s)" if after else "")
        page_sql += " ORDER BY \"timestamp\" DESC, id DESC LIMIT %s"
        with app.app_context():
            source = reader()  # asked again each page: the replica while it keeps up
            with source.connection_context():
                batch = source.execute_sql(page_sql, [*params, *after, FETCH]).fetchall()
        yield from (row[:-1] for row in batch)
        if len(batch) < FETCH:
            return
        after = (batch[-1][3], batch[-1][-1])


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading single quote (OWASP's advice
    against CSV injection): it then shows as text. Other cells are unchanged."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_cells(row) -> list:
    """A row as every CSV of the app writes it: text neutralised, None empty, numbers as
    they are (a number is never run as a formula)."""
    return [neutralise(cell) if isinstance(cell, str) else "" if cell is None else cell
            for cell in row]


def csv_table(header: list[str], rows) -> str:
    """A whole table as CSV text (a report's download)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_cells(header))
    writer.writerows(csv_cells(row) for row in rows)
    return buffer.getvalue()


def csv_chunks(source: Iterator[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for count, (event_id, kind, user, moment, received, metadata) in enumerate(source, 1):
        # metadata is a JSON object: "{..."
        writer.writerow(csv_cells((event_id, kind, user, iso(moment), iso(received), metadata)))
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
