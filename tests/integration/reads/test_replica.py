"""Listings and exports from a real streaming replica; stats from the primary; a replica that
falls behind is left aside."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime

import psycopg2
import pytest

from tests.conftest import start_gunicorn, stop_process
from tests.helpers import READ_HEADERS, wait_until
from webapp.ingest import accept
from webapp.store import insert

MAX_LAG = 8


def get(url: str, lines: bool = False):
    request = urllib.request.Request(url, headers=READ_HEADERS)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return body.splitlines() if lines else json.loads(body)


def on_replica(replica_url: str, sql: str):
    with psycopg2.connect(replica_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def store(app, project, count: int, start: int) -> None:
    body = json.dumps([{"eventType": "r", "userId": str(i), "id": f"r-{i}"}
                       for i in range(start, start + count)]).encode()
    with app.app_context():
        insert.store_batch(project.id, accept.prepare(body, datetime.now(UTC)).payload)


@pytest.mark.slow
def test_listings_come_from_the_replica_while_it_keeps_up(services, app, project, replica_url):
    server = start_gunicorn(services, DATABASE_REPLICA_URL=replica_url,
                            REPLICA_MAX_LAG_SECONDS=str(MAX_LAG))
    try:
        store(app, project, 3, 0)
        # the replica is the session's: first it replays whatever the tests before this one
        # wrote (an export test loads a million rows just before), on a machine as busy as CI's
        wait_until(lambda: on_replica(replica_url, "SELECT count(*) FROM event") == 3,
                   timeout=90, what="the replica to replay the events")
        on_replica(replica_url, "SELECT pg_wal_replay_pause()::text")
        paused = time.monotonic()
        store(app, project, 1, 3)  # on the primary only, for now

        listing = get(server.url + "/events?filter=hour")["data"]
        export = get(server.url + "/events/export?format=ndjson", lines=True)
        stats = get(server.url + "/events/stats?filter=hour")["data"]
        assert time.monotonic() - paused < MAX_LAG, "too slow to tell replica from primary"
        assert listing["count"] == 3 and len(export) == 3  # the replica's view
        assert stats["totalEvents"] == 4  # rollups: the primary's view

        # the replica stays paused: once it is further behind than allowed, the primary answers
        wait_until(lambda: get(server.url + "/events?filter=hour")["data"]["count"] == 4,
                   timeout=MAX_LAG + 20, interval=0.5, what="the primary to take over")
        assert time.monotonic() - paused >= MAX_LAG - 1
    finally:
        on_replica(replica_url, "SELECT pg_wal_replay_resume()::text")
        stop_process(server.process)
    wait_until(lambda: on_replica(replica_url, "SELECT count(*) FROM event") == 4,
               timeout=20, what="the replica to catch up")
