"""Exporting a million rows keeps the web process's memory flat."""

from __future__ import annotations

import csv
import threading
import urllib.request

import psutil
import pytest

from tests.helpers import READ_HEADERS, sql_scalar

ROWS = 1_000_000


def load_rows(app, project_id: int, count: int) -> None:
    from webapp.db import database

    with app.app_context():
        database.execute_sql(
            "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
            "metadata, received_at) SELECT %s, 'bulk-' || i, 'type_' || (i %% 7), "
            "'user-' || (i %% 5000), now() - (i || ' seconds')::interval, "
            "jsonb_build_object('n', i, 'note', 'a \"quoted\", comma'), now() "
            "FROM generate_series(1, %s) AS i", (project_id, count))


def worker_processes(server) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children(recursive=True)


@pytest.mark.slow
def test_exporting_a_million_rows_keeps_memory_flat(app, project, live_server):
    load_rows(app, project.id, ROWS)
    assert sql_scalar(app, "SELECT count(*) FROM event") == ROWS
    (web,) = worker_processes(live_server)
    before = web.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], web.memory_info().rss)
            done.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    request = urllib.request.Request(live_server.url + "/events/export?format=csv",
                                     headers=READ_HEADERS)
    lines = 0
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            reader = csv.reader(line.decode() for line in response)
            header = next(reader)
            for _row in reader:
                lines += 1
    finally:
        done.set()
        sampler.join()
    assert header[:3] == ["id", "eventType", "userId"]
    assert lines == ROWS
    grown = (peak[0] - before) / 2**20
    assert grown < 40, f"web process grew by {grown:.0f} MB while exporting {ROWS} rows"
