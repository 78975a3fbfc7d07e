"""What happens when Redis is away or a worker dies mid-task."""

from __future__ import annotations

import json
import signal
import time

import psutil
import pytest

from tests.conftest import redeliveries, start_worker, stop_process, worker_alive
from tests.helpers import INGEST_HEADERS, READ_HEADERS, settle, sql_scalar, wait_until
from webapp import create_app
from webapp.dev.servers import free_port

EVENT = {"eventType": "purchase", "userId": "42", "id": "kill-test-1"}


def test_redis_unreachable_is_503_and_nothing_is_stored(services, app, project, worker):
    dead = create_app({"DATABASE_URL": services.database_url,
                       "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, test=True)
    response = dead.test_client().post("/webhook", data=json.dumps(EVENT),
                                       headers=INGEST_HEADERS, content_type="application/json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"success": False, "message": "Queue unavailable, retry later"}
    health = dead.test_client().get("/health")
    assert health.status_code == 503
    assert health.get_json()["data"]["checks"]["redis"].startswith("unreachable")
    assert health.get_json()["data"]["checks"]["database"] == "ok"
    assert settle(app, 1.5) == 0


def test_health_reports_every_check(client, project, worker):
    response = client.get("/health")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["status"] == "healthy"
    assert data["checks"] == {"database": "ok", "redis": "ok", "worker": "ok", "jobs": "ok",
                              "store": "ok"}
    assert data["uptime"] >= 0 and data["timestamp"].endswith("Z")
    assert data["storeLagSeconds"] == 0  # nothing waits to be stored


def test_health_names_a_missing_worker(client, project, redis):
    from webapp.ingest.queue import HEARTBEAT_KEY

    saved = redis.get(HEARTBEAT_KEY)
    redis.delete(HEARTBEAT_KEY)
    try:
        response = client.get("/health")
    finally:
        if saved:
            redis.set(HEARTBEAT_KEY, saved, ex=30)
    assert response.status_code == 503
    assert response.get_json()["message"] == "Unhealthy: worker"


def pool_children(process) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def lock_events_table(app):
    """Hold a lock that makes the worker's INSERT wait, so the task is caught mid-way."""
    from webapp.db import make_database

    blocker = make_database(app.config["DATABASE_URL"], pool_size=1)
    blocker.connect()
    blocker.execute_sql("BEGIN")
    blocker.execute_sql("LOCK TABLE event IN EXCLUSIVE MODE")
    return blocker


def waiting_on_lock(app) -> bool:
    return sql_scalar(app, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                      " AND query ILIKE '%%INSERT INTO event %%'") > 0


@pytest.mark.slow
@pytest.mark.parametrize("whole_worker", [False, True], ids=["pool-process", "whole-worker"])
def test_worker_killed_mid_task_still_stores_the_event_once(services, app, client, project,
                                                            redis, worker, whole_worker):
    """SIGKILL a worker while its INSERT waits; the message is delivered again, stored once."""
    worker.stop()  # this test runs its own worker process; the next test restarts the shared one
    since = time.time()
    victim = start_worker(services, concurrency=1)
    wait_until(lambda: worker_alive(redis, since), timeout=30, what="worker")
    blocker = lock_events_table(app)
    try:
        response = client.post("/webhook", data=json.dumps(EVENT), headers=INGEST_HEADERS,
                               content_type="application/json")
        assert response.status_code == 202
        wait_until(lambda: waiting_on_lock(app), timeout=15, what="the task's INSERT")
        if whole_worker:
            stop_process(victim, signal.SIGKILL)
        else:
            for child in pool_children(victim):
                child.kill()
    finally:
        blocker.execute_sql("ROLLBACK")
        blocker.close_all()
    if whole_worker:  # a new worker takes the message once its visibility timeout has passed
        victim = start_worker(services, concurrency=1)
    try:
        wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") >= 1, timeout=60,
                   what="the redelivered event")
        assert settle(app, 2.0) == 1
        assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 1
        # counted, as the suite's last check relies on (the message put back may come after
        # another wake-up of the project's has already stored the batch)
        wait_until(lambda: redeliveries(redis) >= 1, timeout=30, what="the redelivery counted")
        stats = client.get("/events/stats?filter=hour", headers=READ_HEADERS).get_json()["data"]
        assert stats["totalEvents"] == 1
    finally:
        stop_process(victim)
