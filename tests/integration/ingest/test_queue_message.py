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
from webapp import counters
from webapp.ingest import accept, journal, message


def comparable(raw: bytes) -> dict:
    message = orjson.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    # a fresh uuid per message; the app's id of the thread that sent it (no reply is asked for)
    for name in ("delivery_tag", "reply_to"):
        assert len(message["properties"].pop(name)) == 36
    return message


def test_the_message_is_the_one_kombu_pushes_to_redis(app, redis, project, worker):
    worker.stop()
    redis.delete("celery")  # a wake-up it had reserved for an earlier test goes back there
    celery = app.extensions["celery"]
    queue = celery.conf.task_default_queue
    celery.send_task(accept.STORE_PENDING, args=[5], task_id="kombus", headers={"project": 5})
    assert redis.llen(queue) == 1
    theirs = comparable(redis.rpop(queue))
    ours_queue, raw = accept.wake_message(celery, 5, "kombus")
    assert ours_queue == queue and comparable(raw) == theirs


def publish(app, project, prefix: str, count: int) -> None:
    stamp = "2026-01-01T00:00:00.000000+00:00"
    accept.publish(app.extensions["celery"], project.id,
                   [{"id": f"{prefix}-{n}", "type": "t", "user": "u", "ts": stamp, "meta": {},
                     "rcv": stamp} for n in range(count)], [f"req-{prefix}"])


def test_batches_written_while_a_wake_up_waits_share_it(app, redis, project, worker):
    worker.stop()
    redis.delete("celery")  # a wake-up it had reserved for an earlier test goes back there
    before = int(redis.hget(counters.KEY, "messages") or 0)
    publish(app, project, "first", 3)
    # journal entry, wake-up and counters are there together, before any worker runs
    assert journal.pending(redis) == 1 and redis.llen("celery") == 1
    publish(app, project, "second", 2)
    assert journal.pending(redis) == 2 and redis.llen("celery") == 1
    assert int(redis.hget(counters.KEY, "messages")) == before + 1
    worker.ensure_running()
    wait_stored(app, 5, timeout=30)
    wait_until(lambda: journal.pending(redis) == 0, timeout=15, what="the batches forgotten")
    publish(app, project, "third", 1)  # the worker took the flag down: a new wake-up
    wait_stored(app, 6, timeout=30)
    assert int(redis.hget(counters.KEY, "messages")) == before + 2


def test_concurrent_requests_under_gevent_share_messages_and_all_are_stored(
        services, app, redis, project, worker):
    server = start_gunicorn(services)
    try:
        before = int(redis.hget(counters.KEY, "messages") or 0)
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
        messages = int(redis.hget(counters.KEY, "messages")) - before
        assert 0 < messages < 400  # requests that arrive during a write share the next
    finally:
        stop_process(server.process)


def test_the_wake_up_for_new_batches_is_the_one_kombu_pushes_with_its_headers(app, redis, worker):
    worker.stop()
    redis.delete("celery")
    celery = app.extensions["celery"]
    queue, raw = accept.wake_message(celery, 6, "kombus-sent", gather=True)
    sent = orjson.loads(raw)["headers"]["sent"]
    celery.send_task(accept.STORE_PENDING, args=[6], task_id="kombus-sent",
                     headers={"project": 6, "sent": sent})
    assert comparable(redis.rpop(queue)) == comparable(raw)


def test_a_taken_message_is_where_and_as_the_sweeper_reads_it(app, redis):
    """kombu's `unacked` hash (no API lists it): a message taken and not acknowledged is there
    as [message, exchange, routing key], found by its task id; gone once acknowledged."""
    assert message.unacked_differences(app.extensions["celery"], redis) == []


def test_the_check_fails_when_taken_messages_are_not_where_the_sweeper_reads(app, redis):
    """A hash kombu does not write stands for a kombu that moved them: the check says so (and
    a store worker, worker/sweeper.py, exits at start instead of sweeping blind)."""
    problems = message.unacked_differences(app.extensions["celery"], redis, "elsewhere")
    assert problems and "not in the 'elsewhere' hash" in problems[-1]
