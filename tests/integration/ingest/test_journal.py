"""The journal's scripts on a real Redis: a task's claim, the wake-up flag, limits of a take."""

from __future__ import annotations

import time

import pytest

from tests.helpers import wait_until
from webapp.ingest import journal

QUEUE = "journal-test-queue"


@pytest.fixture
def stopped(redis, clean, worker):
    worker.stop()  # its sweeper and tasks would act on this test's batches
    redis.delete(journal.SWEEP_LOCK)  # as it may have left it, stopped mid-sweep
    yield redis
    redis.delete(QUEUE)


def write(redis, batch_id, project=3, events=1, message=True):
    return journal.write(redis, batch_id, project, [{"id": f"{batch_id}-{n}"}
                                                   for n in range(events)],
                         [f"req-{batch_id}"], message=(QUEUE, b"wake") if message else None)


def test_one_wake_up_while_it_waits_then_a_task_takes_everything(stopped):
    redis = stopped
    assert write(redis, "a") is True and write(redis, "b") is False
    assert redis.lrange(QUEUE, 0, -1) == [b"wake"]
    taken = journal.take(redis, 3, "task-1", (QUEUE, b"more"))
    assert list(taken) == ["a", "b"] and taken["b"]["r"] == ["req-b"]
    assert redis.llen(QUEUE) == 1  # nothing left pending: no further wake-up
    assert write(redis, "c") is True  # written after the take: wakes the project again
    assert redis.llen(QUEUE) == 2


def test_a_redelivered_task_finds_its_claim_and_a_committed_one_finds_nothing(stopped):
    redis = stopped
    write(redis, "a")
    first = journal.take(redis, 3, "task-1", (QUEUE, b"more"))
    write(redis, "b")
    assert journal.take(redis, 3, "task-1", (QUEUE, b"more")) == first  # b is not its
    journal.forget(redis, "a", task_id="task-1")
    assert list(journal.take(redis, 3, "task-2", (QUEUE, b"more"))) == ["b"]
    journal.forget(redis, "b", task_id="task-2")
    assert journal.take(redis, 3, "task-1", (QUEUE, b"more")) == {}
    assert journal.pending(redis) == 0


def test_a_take_stops_at_its_limits_and_wakes_the_project_for_the_rest(stopped, monkeypatch):
    redis = stopped
    monkeypatch.setattr(journal, "TAKE_BATCHES", 3)
    for n in range(5):
        write(redis, f"b{n}")
    assert list(journal.take(redis, 3, "t1", (QUEUE, b"more"))) == ["b0", "b1", "b2"]
    assert redis.lrange(QUEUE, 0, 0) == [b"more"]
    monkeypatch.setattr(journal, "TAKE_BYTES", 10)  # smaller than any batch: one at a time
    assert list(journal.take(redis, 3, "t2", (QUEUE, b"more"))) == ["b3"]
    assert list(journal.take(redis, 3, "t3", (QUEUE, b"more"))) == ["b4"]
    assert journal.take(redis, 3, "t4", (QUEUE, b"more")) == {}


def test_the_sweeper_wakes_a_project_whose_wake_up_was_lost(stopped):
    redis = stopped
    woken = []
    sweeper = journal.Sweeper(redis, lambda *args: woken.append(args), grace=5,
                              queues=[QUEUE], unacked_key="journal-test-unacked")
    write(redis, "a", project=4)
    write(redis, "b", project=4)
    redis.delete(QUEUE)  # the wake-up, taken by a worker that died at once
    redis.persist(journal.wake_key(4))  # as if its flag had not lapsed: only the grace finds them
    later = time.time() + 10
    assert sweeper.sweep(now=later) == 0
    assert sweeper.sweep(now=later) == 1  # one wake-up for the project, not one per batch
    assert woken == [(4, "a", ["req-a"])]
    assert list(journal.take(redis, 4, "t", (QUEUE, b"more"))) == ["a", "b"]
    # claimed by a task whose message is unacknowledged: reachable, left alone
    redis.hset("journal-test-unacked", "tag", b'[{"headers": {"id": "t"}}, "", "celery"]')
    try:
        assert sweeper.sweep(now=later + 60) == 0 and sweeper.sweep(now=later + 60) == 0
    finally:
        redis.delete("journal-test-unacked")


def test_a_wake_up_lost_with_its_worker_lapses_and_the_next_batch_or_a_sweep_sends_another(
        stopped):
    redis = stopped
    assert write(redis, "a", project=5) is True
    lifetime = redis.pttl(journal.wake_key(5))
    assert lifetime > 0, "the wake-up flag must lapse, or a dead holder stalls the project"
    assert lifetime <= journal.WAKE_TTL_MS
    redis.delete(QUEUE)  # the wake-up, taken by a worker that died before taking the batches
    assert write(redis, "b", project=5) is False  # the flag says one is on its way
    wait_until(lambda: not redis.exists(journal.wake_key(5)), timeout=3, interval=0.05,
               what="the wake-up flag to lapse")
    assert write(redis, "c", project=5) is True  # a new wake-up, within a second of the loss
    assert redis.lrange(QUEUE, 0, -1) == [b"wake"]

    # lost again, and no batch comes after: the next sweep wakes the project, long before the
    # grace period that finds lost claims
    redis.delete(QUEUE)
    wait_until(lambda: not redis.exists(journal.wake_key(5)), timeout=3, interval=0.05,
               what="the wake-up flag to lapse")
    sweeper = journal.Sweeper(redis, lambda p, b, _: journal.wake(redis, p, (QUEUE, b"swept")),
                              grace=30, queues=[QUEUE], unacked_key="journal-test-unacked")
    assert sweeper.sweep() == 1
    assert redis.lrange(QUEUE, 0, -1) == [b"swept"]
    assert sweeper.sweep() == 0  # its wake-up is on its way
    assert list(journal.take(redis, 5, "t", (QUEUE, b"more"))) == ["a", "b", "c"]
