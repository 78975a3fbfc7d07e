"""The message written with the journal entry: the same as kombu's on real Redis, consumed by a
real worker; and group commit under gunicorn's gevent workers."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request

import orjson

from tests.conftest import start_gunicorn, stop_process
from tests.helpers import INGEST_HEADERS, wait_stored, wait_until
from webapp.ingest import accept, journal
from webapp.ingest.message import Route, task_message
from webapp.ops import metrics


def comparable(raw: bytes) -> dict:
    message = orjson.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    del message["properties"]["delivery_tag"]  # a fresh uuid per message
    return message


def test_the_message_is_the_one_kombu_pushes_to_redis(app, redis, project, worker):
    worker.stop()
    celery = app.extensions["celery"]
    queue = celery.conf.task_default_queue
    accept.send(celery, 5, "kombus", ["r-1"])  # kombu's Redis transport, as the sweeper sends
    assert redis.llen(queue) == 1
    theirs = comparable(redis.rpop(queue))
    ours = comparable(task_message(Route.of(celery), accept.STORE_BATCH, [5, "kombus"],
                                   "kombus", {"request_ids": ["r-1"]}))
    assert ours == theirs


def test_a_worker_consumes_the_batch_written_in_one_transaction(app, redis, project, worker):
    worker.stop()
    before = int(redis.hget(metrics.KEY, "messages") or 0)
    accept.publish(app.extensions["celery"], project.id,
                   [{"id": f"one-tx-{n}", "type": "t", "user": "u", "ts": ts, "meta": {},
                     "rcv": ts} for n, ts in enumerate(["2026-01-01T00:00:00.000000+00:00"] * 3)],
                   ["req"])
    # journal entry, message and counters are there together, before any worker runs
    assert journal.pending(redis) == 1 and redis.llen("celery") == 1
    assert int(redis.hget(metrics.KEY, "messages")) == before + 1
    worker.ensure_running()
    wait_stored(app, 3, timeout=30)
    wait_until(lambda: journal.pending(redis) == 0, timeout=15, what="the batch forgotten")


def test_concurrent_requests_under_gevent_share_messages_and_all_are_stored(
        services, app, redis, project, worker):
    server = start_gunicorn(services)
    try:
        before = int(redis.hget(metrics.KEY, "messages") or 0)
        answers: list[int] = []

        def sender(n: int) -> None:
            for i in range(25):
                body = json.dumps({"eventType": "burst", "userId": f"u{n}", "id": f"b{n}-{i}"})
                request = urllib.request.Request(
                    server.url + "/webhook", data=body.encode(), method="POST",
                    headers={**INGEST_HEADERS, "Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers.append(response.status)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert answers == [202] * 400
        wait_stored(app, 400, timeout=60)
        messages = int(redis.hget(metrics.KEY, "messages")) - before
        assert 0 < messages < 400  # requests that arrive during a write share the next
    finally:
        stop_process(server.process)
