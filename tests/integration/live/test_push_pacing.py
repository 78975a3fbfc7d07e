"""How often a project's pushes come: the push lock a commit takes, against real Redis."""

from __future__ import annotations

import time

import pytest

from webapp.ingest.journal import pending_key
from webapp.live.publish import BEHIND_INTERVAL_MS, PUSH_INTERVAL_MS, note_dirty, watched_key

PROJECT = 9_001
LOCK = f"pulseboard:push-lock:{PROJECT}"

pytestmark = pytest.mark.usefixtures("clean")


def commit(redis) -> int:
    """What a worker's commit finds: milliseconds until the push it schedules, 0 for none."""
    pipe = redis.pipeline(transaction=False)
    at = note_dirty(pipe, PROJECT)
    return pipe.execute()[at]


def watch(redis) -> None:
    redis.zadd(watched_key(PROJECT), {"hour|web:1": time.time() + 30})


def waiting(redis, seconds_ago: float) -> None:
    """A batch acknowledged `seconds_ago`, not yet taken by a worker."""
    redis.zadd(pending_key(PROJECT), {f"batch-{seconds_ago}": time.time() - seconds_ago})


def test_no_push_is_scheduled_for_a_project_nobody_watches(redis):
    waiting(redis, 5)
    assert commit(redis) == 0
    assert not redis.exists(LOCK)
    assert redis.exists(f"pulseboard:dirty:{PROJECT}")  # a tab that opens asks for a push


@pytest.mark.parametrize("seconds_ago", [None, 0.0, PUSH_INTERVAL_MS / 2000])
def test_while_the_store_keeps_up_pushes_come_every_short_interval(redis, seconds_ago):
    watch(redis)
    if seconds_ago is not None:
        waiting(redis, seconds_ago)
    assert commit(redis) == PUSH_INTERVAL_MS
    assert 0 < redis.pttl(LOCK) <= PUSH_INTERVAL_MS
    assert commit(redis) == 0  # one push scheduled at a time


@pytest.mark.parametrize("seconds_ago", [PUSH_INTERVAL_MS / 1000 + 0.05, 3.0, 600.0])
def test_while_batches_wait_longer_than_that_pushes_come_every_long_interval(redis,
                                                                            seconds_ago):
    watch(redis)
    waiting(redis, 0.0)
    waiting(redis, seconds_ago)  # the oldest decides
    assert commit(redis) == BEHIND_INTERVAL_MS
    assert PUSH_INTERVAL_MS < redis.pttl(LOCK) <= BEHIND_INTERVAL_MS
    assert commit(redis) == 0


def test_once_the_store_has_caught_up_pushes_come_often_again(redis):
    watch(redis)
    waiting(redis, 3.0)
    assert commit(redis) == BEHIND_INTERVAL_MS
    redis.delete(pending_key(PROJECT), LOCK)  # taken and stored; the scheduled push has run
    assert commit(redis) == PUSH_INTERVAL_MS
