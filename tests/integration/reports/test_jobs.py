"""A report job lives in Celery's result backend: queued when sent, started by the worker's
update_state, then its result; only report jobs keep results, read by polling."""

from __future__ import annotations

import json
import time

import psutil
from celery.result import AsyncResult

from tests.helpers import INGEST_HEADERS, sql_scalar, wait_until
from tests.integration.web.test_reports_routes import history  # noqa: F401 (fixture)
from webapp.ingest import queue
from webapp.reports import jobs

QUERY = "step=signup&step=view&step=buy&window=1h"


def lock_report_tables(app):
    """Hold the tables a report reads, so the worker's report waits while the test looks."""
    from webapp.db import make_database

    blocker = make_database(app.config["DATABASE_URL"], pool_size=1)
    blocker.connect()
    blocker.execute_sql("BEGIN")
    blocker.execute_sql("LOCK TABLE event, event_rollup_hour, report_day IN ACCESS EXCLUSIVE MODE")
    return blocker


def report_waiting(app) -> bool:
    return sql_scalar(app, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                      " AND backend_type = 'client backend'") > 0


def subscribed_here(redis) -> list[dict]:
    """This process's connections to Redis that subscribed to a channel (or unsubscribed: a
    connection kept for the next subscription)."""
    ours = {f"{c.laddr.ip}:{c.laddr.port}" for c in psutil.Process().net_connections("tcp")}
    return [c for c in redis.client_list()
            if c["addr"] in ours and c["cmd"] in ("subscribe", "unsubscribe")]


def test_a_jobs_state_is_celerys_from_queued_to_started_to_its_result(
        app, redis, project, history, worker):  # noqa: F811
    celery = app.extensions["celery"]
    worker.stop(kinds=("jobs",))  # nobody takes the job yet; the next start restarts it
    queued = redis.llen(jobs.QUEUE)
    job = jobs.start(celery, project.id, "funnel", QUERY)
    assert AsyncResult(job, app=celery).state == "QUEUED" and jobs.state(celery, job) == "queued"
    assert jobs.start(celery, project.id, "funnel", QUERY) == job
    assert redis.llen(jobs.QUEUE) == queued + 1  # queued once
    assert redis.exists(f"pulseboard:celery-task-meta-{job}")  # among our keys

    blocker = lock_report_tables(app)
    try:
        worker.ensure_running()
        wait_until(lambda: report_waiting(app), timeout=15, what="the worker's report")
        running = AsyncResult(job, app=celery)
        assert running.state == "STARTED" and time.time() - running.info["started"] < 60
        assert jobs.progress(celery, redis, job, project.id, "funnel")[0] == "running"
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: AsyncResult(job, app=celery).state == "SUCCESS", timeout=30,
               what="the job's result")
    data = AsyncResult(job, app=celery).result
    assert [step["users"] for step in data["steps"]] == [2, 2, 1]
    assert jobs.result(celery, job) == data and jobs.state(celery, job) == "done"

    # run again under the same id: the stored success gives way to the new run
    redis.delete(*redis.scan_iter("pulseboard:report:*"))  # the cached result, to compute again
    blocker = lock_report_tables(app)
    try:
        assert jobs.start(celery, project.id, "funnel", QUERY) == job
        assert AsyncResult(job, app=celery).state in ("QUEUED", "STARTED")
        wait_until(lambda: report_waiting(app), timeout=15, what="the report run again")
        assert jobs.state(celery, job) == "running" and jobs.result(celery, job) is None
    finally:
        blocker.rollback()
        blocker.close()
    wait_until(lambda: jobs.state(celery, job) == "done", timeout=30, what="the second run")


def test_a_failed_report_is_a_failed_job(app, redis, project, worker):
    celery = app.extensions["celery"]
    job = jobs.start(celery, project.id, "funnel", "window=1h")  # no step: the report refuses
    wait_until(lambda: jobs.state(celery, job) == "failed", timeout=30, what="the failure")
    assert AsyncResult(job, app=celery).state == "FAILURE" and jobs.result(celery, job) is None
    assert jobs.wait(celery, job, 5) is None


def test_only_report_jobs_keep_results_and_the_web_subscribes_to_none(
        app, client, redis, project, worker):
    celery = app.extensions["celery"]
    # tasks the web sends: an invalid event's count, a report job
    answer = client.post("/webhook", data=json.dumps([{"eventType": "ok", "userId": "u"},
                                                      {"eventType": ""}]),
                         headers=INGEST_HEADERS, content_type="application/json")
    assert answer.status_code == 400, answer.get_json()
    job = jobs.start(celery, project.id, "funnel", "window=1h")
    # no result channel subscribed, nor a connection kept for one
    assert not redis.pubsub_channels("*celery-task-meta-*")
    assert subscribed_here(redis) == []
    wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM invalid_rollup_minute"),
               timeout=15, what="the invalid event's count")
    wait_until(lambda: jobs.state(celery, job) == "failed", timeout=30, what="the report job")
    assert [key.decode() for key in redis.scan_iter("pulseboard:celery-task-meta-*")] == \
        [f"pulseboard:celery-task-meta-{job}"]  # record_invalid kept none


def test_results_are_polled_and_last_as_long_as_a_job_is_followed(app):
    celery = app.extensions["celery"]
    assert isinstance(celery.backend, queue.PolledRedisBackend)
    assert celery.conf.result_expires == jobs.TTL_SECONDS == queue.RESULTS_SECONDS
