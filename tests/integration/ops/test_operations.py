"""Dead letters, /metrics and JSON logs."""

from __future__ import annotations

import json
import logging
import re

from tests.helpers import INGEST_HEADERS, drain, sql_scalar, wait_stored
from webapp import logs
from webapp.models import iso
from webapp.store import deadletters


def test_dead_letters_show_on_the_dashboard_and_replay_once(app, logged_in, project, worker,
                                                            redis):
    from datetime import UTC, datetime

    now = iso(datetime.now(UTC))
    payload = [{"id": f"dl-{i}", "type": "late", "user": "u", "ts": now, "meta": {}, "rcv": now}
               for i in range(3)]
    with app.app_context():
        deadletters.record(project.id, payload, RuntimeError("database was away too long"))
    page = logged_in.get("/").get_data(as_text=True)
    assert re.search(r'data-testid="dead-letters">1 batch could not be stored', page)
    metrics = logged_in.get("/metrics").get_data(as_text=True)
    assert "pulseboard_dead_letters 1" in metrics
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["deadletter", "list"])
    assert "database was away too long" in listed.output
    replayed = runner.invoke(args=["deadletter", "replay"])
    assert replayed.exit_code == 0 and "replayed 1 dead letter(s), 3 events" in replayed.output
    wait_stored(app, 3)
    runner.invoke(args=["deadletter", "replay"])  # nothing left to replay
    drain(redis)
    assert sql_scalar(app, "SELECT count(*) FROM event") == 3
    assert "data-testid=\"dead-letters\"" not in logged_in.get("/").get_data(as_text=True)


def test_metrics_count_accepted_and_rejected_by_reason(client, project, worker, app):
    client.post("/webhook", data=json.dumps([{"eventType": "a", "userId": "1"}] * 3),
                headers=INGEST_HEADERS, content_type="application/json")
    client.post("/webhook", data="{", headers=INGEST_HEADERS, content_type="application/json")
    client.post("/webhook", data=json.dumps([{"eventType": "a"}, {"userId": "b"}]),
                headers=INGEST_HEADERS, content_type="application/json")
    client.post("/webhook", data="{}", headers={"X-API-Key": "nope"},
                content_type="application/json")
    wait_stored(app, 3)
    text = client.get("/metrics").get_data(as_text=True)
    assert "pulseboard_events_accepted_total 3" in text
    assert 'pulseboard_events_rejected_total{reason="malformed_json"} 1' in text
    assert 'pulseboard_events_rejected_total{reason="validation"} 2' in text
    assert 'pulseboard_events_rejected_total{reason="unauthorized"} 1' in text
    assert re.search(r"^pulseboard_events_stored_total 3\.0$", text, re.M)
    for queue in ("celery", "live", "reports", "alerts"):  # every queue's depth
        assert re.search(rf'^pulseboard_queue_depth{{queue="{queue}"}} \d+\.0$', text, re.M)
    assert "# TYPE pulseboard_ingest_to_commit_lag_seconds gauge" in text


def test_json_log_lines_carry_the_request_id(app, client, project):
    record = logging.LogRecord("webapp.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    with app.test_request_context(headers={"X-Request-ID": "req-123"}):
        from flask import g

        g.request_id = "req-123"
        line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "hello x" and line["request_id"] == "req-123"
    token = logs.task_request_ids.set(["req-123", "req-456"])
    try:
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.task_request_ids.reset(token)
    assert line["request_ids"] == ["req-123", "req-456"] and line["level"] == "info"
    answer = client.get("/health", headers={"X-Request-ID": "abc"})
    assert answer.headers["X-Request-ID"] == "abc"


def test_metrics_tell_the_depth_of_every_queue(client, redis, worker):
    worker.stop()  # nothing takes the messages while they are counted
    redis.delete("celery", "live", "reports", "alerts")
    for queue, waiting in (("celery", 1), ("live", 2), ("reports", 3), ("alerts", 4)):
        redis.lpush(queue, *[b"{}"] * waiting)
    try:
        text = client.get("/metrics").get_data(as_text=True)
    finally:
        redis.delete("celery", "live", "reports", "alerts")
    for queue, waiting in (("celery", 1), ("live", 2), ("reports", 3), ("alerts", 4)):
        assert f'pulseboard_queue_depth{{queue="{queue}"}} {waiting}.0' in text
