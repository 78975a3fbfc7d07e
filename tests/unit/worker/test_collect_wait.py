"""How long a worker lets a project's batches gather before taking them."""

import pytest

from worker.tasks import collect_wait


def test_a_fresh_wake_up_waits_until_it_is_collect_old():
    assert collect_wait(100.0, 100.005, 0.02) == pytest.approx(0.015)


def test_one_from_a_backlog_takes_at_once():
    assert collect_wait(100.0, 100.5, 0.02) == 0


def test_a_web_clock_ahead_never_makes_it_wait_longer_than_collect():
    assert collect_wait(160.0, 100.0, 0.02) == 0.02


def test_no_time_sent_or_no_collect_takes_at_once():
    assert collect_wait(None, 100.0, 0.02) == 0
    assert collect_wait(100.0, 100.0, 0) == 0
