"""A slow export reader pins no database connection and no transaction, and a project runs at
most EXPORT_CONCURRENCY exports at once (past it: 429 with Retry-After)."""

from __future__ import annotations

import csv
import io
import time
import urllib.request

from tests.helpers import READ_HEADERS, sql_scalar

ROWS = 60_000  # more than socket buffers hold, in many pages


def load_rows(app, project_id: int, count: int = ROWS) -> None:
    """Events whose timestamps come three at a time, so pages must break ties by id."""
    from webapp.db import database

    with app.app_context():
        database.execute_sql(
            "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
            "metadata, received_at) SELECT %s, 'row-' || i, 't', 'u', "
            "date_trunc('second', now()) - ((i / 3) || ' seconds')::interval, '{}', now() "
            "FROM generate_series(1, %s) AS i", (project_id, count))


def open_transactions(app) -> int:
    return sql_scalar(app, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND state LIKE 'idle in transaction%%'")


def test_a_stalled_reader_holds_no_transaction_and_gets_every_row(app, project, live_server):
    load_rows(app, project.id)
    request = urllib.request.Request(live_server.url + "/events/export?format=csv",
                                     headers=READ_HEADERS)
    with urllib.request.urlopen(request, timeout=30) as response:
        head = response.read(2048)  # then stall, as a slow reader does
        time.sleep(1.0)
        assert open_transactions(app) == 0
        body = head + response.read()
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    ids = [row["id"] for row in rows]
    assert len(ids) == ROWS and set(ids) == {f"row-{i}" for i in range(1, ROWS + 1)}
    stamps = [row["timestamp"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)


def export(client):
    return client.get("/events/export?format=ndjson", headers=READ_HEADERS, buffered=False)


def test_exports_past_the_cap_are_refused_until_one_ends(app, client, project, monkeypatch):
    load_rows(app, project.id, 5)
    monkeypatch.setitem(client.application.config, "EXPORT_CONCURRENCY", 2)
    first, second = export(client), export(client)
    assert first.status_code == second.status_code == 200
    refused = export(client)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "At most 2 exports" in refused.get_json()["message"]
    first.close()  # the reader went away before reading anything
    third = export(client)
    assert third.status_code == 200
    assert len(b"".join(third.response).splitlines()) == 5
    assert export(client).status_code == 200  # the one read to its end freed its slot
    second.close()


def test_a_slot_lapses_when_its_reader_vanishes(app, client, project, monkeypatch):
    load_rows(app, project.id, 5)
    config = client.application.config
    monkeypatch.setitem(config, "EXPORT_CONCURRENCY", 1)
    monkeypatch.setitem(config, "EXPORT_SLOT_SECONDS", 1)
    held = export(client)  # never read, never closed: as if its process died
    assert export(client).status_code == 429
    time.sleep(1.2)
    assert export(client).status_code == 200
    held.close()


def test_a_refused_export_takes_no_slot(app, client, project, monkeypatch):
    load_rows(app, project.id, 5)
    monkeypatch.setitem(client.application.config, "EXPORT_CONCURRENCY", 2)
    for _ in range(3):
        refused = client.get("/events/export?where=page=/x", headers=READ_HEADERS)
        assert refused.status_code == 400
    answer = client.get("/events/export", headers=READ_HEADERS)
    assert answer.status_code == 200
    assert len(answer.get_data().splitlines()) == 6  # the header and every row
