"""The hand-built task message is the one kombu writes for the same task."""

from __future__ import annotations

import base64
import json
import time

import orjson
import pytest
from celery import Celery

from webapp.ingest.accept import STORE_PENDING, wake_message
from webapp.ingest.message import FormatChanged, Route, check, differences, task_message


def kombus_message(app: Celery, args: list, task_id: str, headers: dict,
                   name: str = STORE_PENDING) -> dict:
    """What `send_task` hands the transport (kombu's virtual channel, which the Redis transport
    shares: the Redis one then pushes it as JSON to the queue's list)."""
    app.send_task(name, args=args, task_id=task_id, headers=headers)
    with app.connection_for_write() as connection:
        return connection.default_channel._queue_for(app.conf.task_default_queue).get()


def test_the_envelope_matches_kombus_for_the_same_task():
    app = Celery("envelope", broker="memory://")
    app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True)
    args, task_id, headers = [42, "0f" * 16], "0f" * 16, {"request_ids": ["r-1", "r-2"]}
    theirs = kombus_message(app, args, task_id, headers)
    ours = orjson.loads(task_message(Route.of(app), STORE_PENDING, args, task_id, headers))
    # a delivery tag is a fresh uuid per message; the origin names the sending process
    for message in (theirs, ours):
        assert len(message["properties"].pop("delivery_tag")) == 36
    assert ours["headers"].pop("origin") == theirs["headers"].pop("origin")
    # the body is the same JSON (kombu puts spaces after separators)
    body = [json.loads(base64.b64decode(m.pop("body"))) for m in (theirs, ours)]
    assert body[0] == body[1] == [args, {}, {"callbacks": None, "errbacks": None,
                                              "chain": None, "chord": None}]
    assert ours == theirs


def test_the_wake_up_the_web_writes_is_kombus_for_the_same_task():
    app = Celery("wake", broker="memory://")
    app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True)
    theirs = kombus_message(app, [42], "ab" * 16, {"project": 42}, name=STORE_PENDING)
    queue, raw = wake_message(app, 42, "ab" * 16)
    ours = orjson.loads(raw)
    assert queue == "celery"
    for message in (theirs, ours):
        message["properties"].pop("delivery_tag")
        message["headers"].pop("origin")
        message["body"] = json.loads(base64.b64decode(message["body"]))
    assert ours == theirs and ours["headers"]["task"] == STORE_PENDING


def test_the_webs_wake_up_for_new_batches_says_when_it_was_written():
    app = Celery("wake", broker="memory://")
    app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True)
    before = time.time()
    _, raw = wake_message(app, 42, "ab" * 16, gather=True)
    ours = orjson.loads(raw)
    sent = ours["headers"].pop("sent")  # the worker lets the next batches gather until then
    assert before - 0.001 <= sent <= time.time() + 0.001  # to the millisecond
    _, plain = wake_message(app, 42, "ab" * 16)
    theirs = orjson.loads(plain)
    for message in (theirs, ours):
        message["properties"].pop("delivery_tag")
    assert ours == theirs


def test_celery_reads_the_message_back_as_the_task():
    app = Celery("reader", broker="memory://")
    app.conf.update(task_serializer="json", accept_content=["json"])
    raw = task_message(Route.of(app), STORE_PENDING, [7, "batch"], "batch", {"request_ids": ["r"]})
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        message = channel.Message(orjson.loads(raw), channel=channel)
        assert message.decode() == [[7, "batch"], {}, {"callbacks": None, "errbacks": None,
                                                       "chain": None, "chord": None}]
        assert message.headers["task"] == STORE_PENDING and message.headers["id"] == "batch"
        assert message.headers["request_ids"] == ["r"]
        assert message.delivery_info["routing_key"] == "celery"


def test_the_startup_check_passes_for_the_pinned_celery():
    app = Celery("check", broker="memory://")
    app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True)
    assert differences(app) == []
    check(app)


def test_a_celery_that_writes_another_message_is_refused_at_start():
    """Protocol 1 stands for a Celery upgrade that changed the message: every difference is
    named, and the process refuses to start."""
    app = Celery("older", broker="memory://")
    app.conf.update(task_serializer="json", accept_content=["json"], task_protocol=1)
    problems = differences(app)
    assert any(problem.startswith("headers.") for problem in problems)
    assert any(problem.startswith("body") for problem in problems)
    with pytest.raises(FormatChanged, match="differs from Celery's own: .*headers"):
        check(app)
