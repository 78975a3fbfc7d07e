"""Random batches with duplicates, retries and out-of-order times: stats always equal SQL."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TABLES, start_worker, stop_process, worker_alive
from tests.helpers import INGEST_HEADERS, READ_HEADERS, drain, sql_scalar, wait_until
from webapp.models import iso
from webapp.reads import uniques
from webapp.reads.windows import WINDOWS

pytestmark = pytest.mark.usefixtures("worker")
TYPES = ["page_view", "click", "signup", "purchase", "search", "error", "logout"]
AGES = st.one_of(st.integers(0, 3_600), st.integers(0, 86_400), st.integers(0, 9 * 86_400),
                 st.integers(-240, 0))  # seconds ago; negative: up to 4 minutes ahead
EVENT = st.fixed_dictionaries({
    "eventType": st.sampled_from(TYPES),
    "userId": st.sampled_from([f"user-{i}" for i in range(12)]),
    "age": AGES,
    "id": st.one_of(st.none(), st.sampled_from([f"evt-{i}" for i in range(40)])),
})
BATCHES = st.lists(st.lists(EVENT, min_size=1, max_size=40), min_size=1, max_size=6)


def as_event(spec: dict, now: datetime) -> dict:
    event = {"eventType": spec["eventType"], "userId": spec["userId"],
             "timestamp": iso(now - timedelta(seconds=spec["age"]))}
    if spec["id"]:
        event["id"] = spec["id"]
    return event


def reset(app, redis) -> None:
    from webapp.db import database

    drain(redis)  # a retried delivery still queued would land after the reset
    with app.app_context():
        database.execute_sql("DELETE FROM event; DELETE FROM event_rollup_minute; "
                             "DELETE FROM event_rollup_hour;")
    keys = list(redis.scan_iter("pulseboard:stats:*")) + list(redis.scan_iter("pulseboard:hll:*"))
    if keys:
        redis.delete(*keys)


def post_all(client, batches: list[list[dict]], retries: set[int]) -> int:
    """Post each batch (and again, as a sender's retry, when chosen); returns how many events
    are distinct: an event id is stored once per UTC day of its timestamp (the partition)."""
    keys = set()
    for index, batch in enumerate(batches):
        for _ in range(2 if index in retries else 1):
            response = client.post("/webhook", data=json.dumps(batch), headers=INGEST_HEADERS,
                                   content_type="application/json")
            assert response.status_code == 202
            # a retry of a batch without ids gets new ids: that is a new delivery, stored again
            keys.update((event_id, event["timestamp"][:10]) for event_id, event in
                        zip(response.get_json()["data"]["eventIds"], batch, strict=True))
    return len(keys)


def check_every_filter(app, client) -> None:
    for name in WINDOWS:
        data = client.get(f"/events/stats?filter={name}", headers=READ_HEADERS).get_json()["data"]
        start = datetime.fromisoformat(data["from"])
        where = 'FROM event WHERE "timestamp" >= %s'
        assert data["totalEvents"] == sql_scalar(app, f"SELECT count(*) {where}", (start,))
        by_type = sql_scalar(app, "SELECT COALESCE(json_object_agg(event_type, n), '{}') FROM "
                             f"(SELECT event_type, count(*) n {where} GROUP BY 1) t", (start,))
        assert data["statistics"] == by_type
        users = sql_scalar(app, f"SELECT count(DISTINCT user_id) {where}", (start,))
        if data["uniqueUsersApproximate"]:
            assert abs(data["uniqueUsers"] - users) <= max(1, 3 * uniques.STANDARD_ERROR * users)
        else:
            assert data["uniqueUsers"] == users
        last = datetime.fromisoformat(data["series"][-1]["timestamp"]).timestamp()
        series = sql_scalar(
            app, "SELECT COALESCE(json_agg(n), '[]') FROM (SELECT count(*) n "
            f"{where} GROUP BY least(floor(extract(epoch FROM \"timestamp\") / %s) * %s, %s)) t",
            (start, int(WINDOWS[name].bucket.total_seconds()),
             int(WINDOWS[name].bucket.total_seconds()), last))
        assert sorted(p["count"] for p in data["series"] if p["count"]) == sorted(series)
        top = [t["type"] for t in data["topEventTypes"]]
        assert top == sorted(by_type, key=lambda t: (-by_type[t], t))[:5]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batches=BATCHES, retries=st.sets(st.integers(0, 5)), estimate=st.booleans())
def test_stats_equal_sql_for_random_batches(app, client, redis, project, batches, retries,
                                            estimate, monkeypatch):
    reset(app, redis)
    monkeypatch.setattr(uniques, "EXACT_LIMIT", -1 if estimate else 50_000)
    now = datetime.now(UTC)
    expected = post_all(client, [[as_event(e, now) for e in batch] for batch in batches],
                        retries)
    wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") == expected, timeout=20,
               what=f"{expected} stored events")
    drain(redis)
    assert sql_scalar(app, "SELECT count(*) FROM event") == expected
    check_every_filter(app, client)


@pytest.mark.slow
def test_two_workers_writing_at_once_lose_nothing_and_never_deadlock(services, app, client,
                                                                     redis, project):
    reset(app, redis)
    deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    before = sql_scalar(app, deadlocks)
    since = time.time()
    second = start_worker(services)
    try:
        wait_until(lambda: worker_alive(redis, since), timeout=30, what="second worker")
        now = datetime.now(UTC)
        errors: list[Exception] = []

        def sender(offset: int):
            try:
                local = app.test_client()
                for round_ in range(20):  # same minutes and types from both senders
                    batch = [{"eventType": TYPES[(i + round_) % 3], "userId": f"u{i % 9}",
                              "timestamp": iso(now - timedelta(seconds=i % 120)),
                              "id": f"s{offset}-r{round_}-{i}"} for i in range(100)]
                    response = local.post("/webhook", data=json.dumps(batch),
                                          headers=INGEST_HEADERS,
                                          content_type="application/json")
                    assert response.status_code == 202
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") == 8000, timeout=60,
                   what="8,000 stored events")
        assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 8000
        assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_hour") == 8000
        check_every_filter(app, client)
        assert sql_scalar(app, deadlocks) == before
    finally:
        stop_process(second)


def test_rollups_rebuild_recomputes_from_raw_events(app, client, redis, project):
    reset(app, redis)
    from webapp.db import database

    now = datetime.now(UTC)
    batch = [{"eventType": TYPES[i % 4], "userId": f"u{i}", "id": f"r{i}",
              "timestamp": iso(now - timedelta(hours=i))} for i in range(50)]
    client.post("/webhook", data=json.dumps(batch), headers=INGEST_HEADERS,
                content_type="application/json")
    wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") == 50, what="50 events")
    time.sleep(0.2)
    with app.app_context():  # damage the rollups, as a bad migration or manual edit might
        database.execute_sql("UPDATE event_rollup_minute SET count = count * 3")
        database.execute_sql("DELETE FROM event_rollup_hour")
    result = app.test_cli_runner().invoke(args=["rollups", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 50
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_hour") == 50
    check_every_filter(app, client)


assert "event_rollup_hour" in TABLES


def test_estimated_unique_users_include_events_stamped_ahead(app, client, redis, project,
                                                              monkeypatch):
    reset(app, redis)
    monkeypatch.setattr(uniques, "EXACT_LIMIT", -1)  # always the sketches
    now = datetime.now(UTC)
    batch = [{"eventType": "click", "userId": f"ahead-{i}",
              "timestamp": iso(now + timedelta(seconds=60 + 50 * i))} for i in range(4)]
    assert client.post("/webhook", data=json.dumps(batch), headers=INGEST_HEADERS,
                       content_type="application/json").status_code == 202
    wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") == 4, timeout=20,
               what="4 stored events")
    drain(redis)
    for name in WINDOWS:
        data = client.get(f"/events/stats?filter={name}", headers=READ_HEADERS).get_json()["data"]
        assert (data["uniqueUsers"], data["uniqueUsersApproximate"]) == (4, True), name
