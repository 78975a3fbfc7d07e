"""A report page that takes too long runs as a Celery task and follows it over SSE."""

from __future__ import annotations

import re
import time

import pytest

from tests.helpers import READ_HEADERS, wait_until
from tests.integration.web.test_reports_routes import history  # noqa: F401 (fixture)
from webapp.reports import jobs
from webapp.reports.definition import TooSlow, query, time_limit
from webapp.web.reports import progress_html

pytestmark = pytest.mark.usefixtures("worker")
QUERY = "step=signup&step=view&step=buy&window=1h"


def test_a_slow_report_runs_in_the_worker_and_streams_its_result(app, logged_in, redis, project,
                                                                 history, monkeypatch):  # noqa: F811
    def too_slow(*args):
        raise TooSlow()

    monkeypatch.setattr("webapp.web.reports.params.run", too_slow)  # for the page only
    page = logged_in.get(f"/projects/default/reports/funnel?{QUERY}").get_data(as_text=True)
    stream = re.search(r'sse-connect="([^"]+/jobs/[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "queued" in page and '<th scope="row">1. signup</th>' not in page
    job = stream.split("/jobs/")[1].split("?")[0]
    celery = app.extensions["celery"]
    wait_until(lambda: jobs.state(celery, job) in ("done", "failed"), timeout=30,
               what="the report task")
    assert jobs.state(celery, job) == "done"
    assert float(redis.get(jobs.duration_key(project.id, "funnel"))) > 0
    monkeypatch.undo()  # the stream reads the result the worker cached
    body = logged_in.get(stream).get_data(as_text=True)
    assert "event: progress" in body and "event: done" in body
    assert '<th scope="row">1. signup</th>' in body.split("event: done")[1]
    assert logged_in.get(stream.replace(job, "0" * 32)).status_code == 404


def test_a_running_job_reports_its_time_so_far_and_the_last_runs(app, redis, project):
    celery = app.extensions["celery"]
    # as the task's update_state says it (jobs.mark_running), 4.2 s ago
    celery.backend.store_result("j1", {"started": time.time() - 4.2}, "STARTED")
    state, elapsed, expected = jobs.progress(celery, redis, "j1", project.id, "funnel")
    assert (state, expected) == ("running", None) and 4.2 <= elapsed < 6
    jobs.record_duration(redis, project.id, "funnel", 10)
    state, elapsed, expected = jobs.progress(celery, redis, "j1", project.id, "funnel")
    assert 'value="40"' in progress_html(elapsed, expected) and expected == 10
    celery.backend.store_result("j1", {"steps": []}, "SUCCESS")
    assert jobs.progress(celery, redis, "j1", project.id, "funnel") == ("done", None, None)
    assert jobs.progress(celery, redis, "j2", project.id, "funnel") == (None, None, None)


def test_a_time_limit_stops_a_statement_with_too_slow(app):
    with app.app_context():
        assert query("SELECT 1", []) == [(1,)]
        with time_limit(50), pytest.raises(TooSlow):
            query("SELECT pg_sleep(2)", [])
        assert query("SELECT 2", []) == [(2,)]  # the limit ends with its block


def test_an_api_report_too_slow_to_answer_inline_comes_from_the_worker(
        app, client, redis, history, monkeypatch):  # noqa: F811
    from webapp.web import reports

    inline = client.get(f"/reports/funnel?{QUERY}", headers=READ_HEADERS).get_json()["data"]
    computed = []

    def too_slow(*args):
        computed.append(args)
        raise TooSlow()

    monkeypatch.setattr(reports.params, "run", too_slow)  # in this process: the worker's own
    answer = client.get(f"/reports/funnel?{QUERY}", headers=READ_HEADERS)
    assert answer.status_code == 200, answer.get_json()
    assert len(computed) == 1  # the worker computed it, not this process
    data = answer.get_json()["data"]
    assert [s["users"] for s in data["steps"]] == [s["users"] for s in inline["steps"]] == \
        [2, 2, 1]
    csv_answer = client.get(f"/reports/funnel.csv?{QUERY}", headers=READ_HEADERS)
    assert csv_answer.status_code == 200 and "signup" in csv_answer.get_data(as_text=True)


def test_an_api_report_still_running_answers_503_and_a_failed_one_too(
        app, client, redis, project, history, monkeypatch):  # noqa: F811
    from webapp.web import reports

    def too_slow(*args):
        raise TooSlow()

    monkeypatch.setattr(reports.params, "run", too_slow)
    monkeypatch.setitem(app.config, "REPORT_WAIT_SECONDS", 0)
    answer = client.get(f"/reports/funnel?{QUERY}", headers=READ_HEADERS)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "still computing" in answer.get_json()["errors"][0]["message"]
    monkeypatch.setitem(app.config, "REPORT_WAIT_SECONDS", 30)
    monkeypatch.setattr(reports.jobs, "start", lambda *args: "0" * 32)  # a job nobody runs
    answer = client.get(f"/reports/funnel?{QUERY}", headers=READ_HEADERS)
    assert answer.status_code == 503 and "failed" in answer.get_json()["errors"][0]["message"]


def test_within_a_time_limit_a_report_over_too_many_events_goes_to_the_workers_at_once(
        app, project, history, monkeypatch):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    from webapp.db import database
    from webapp.reports.columns import load
    from webapp.reports.definition import Scope

    now = datetime.now(UTC)
    scope = Scope(project.id, now - timedelta(days=1), now + timedelta(minutes=1))
    monkeypatch.setattr(load, "INLINE_EVENTS_PER_MS", 0.001)  # 6 events: too many in 1 s
    with app.app_context():
        with time_limit(1000), pytest.raises(TooSlow):
            load.of_scope(scope)
        # counted from the rollups, before any day was packed in this process
        assert database.execute_sql("SELECT count(*) FROM report_day").fetchone()[0] == 0
        assert len(load.of_scope(scope)) == 6  # without a limit it is packed and read
