"""Group commit: a request waits only while another write of its sender is in flight."""

from __future__ import annotations

import threading
import time

import pytest

from webapp.ingest.groupcommit import ALONE, JOIN, LEAD, GroupCommit, Policy


def test_a_request_with_nothing_in_flight_writes_at_once():
    assert Policy.decide(forming=False, writing=0) == ALONE


def test_a_request_behind_a_write_leads_a_group_and_later_ones_join_it():
    assert Policy.decide(forming=False, writing=1) == LEAD
    assert Policy.decide(forming=True, writing=1) == JOIN
    assert Policy.decide(forming=True, writing=0) == JOIN


def test_the_window_follows_the_arrival_rate_and_is_capped():
    policy = Policy(max_window=0.010, target=64, smoothing=1.0)
    policy.arrived(0.0)
    policy.arrived(0.001)  # 1,000 events a second: 64 of them take 64 ms, more than the cap
    assert policy.window() == pytest.approx(0.010)
    policy.arrived(0.001 + 0.00005)  # 20,000 a second: 64 events in 3.2 ms
    assert policy.window() == pytest.approx(0.0032)
    policy.arrived(0.00105 + 0.0005, events=10)  # a request of ten events counts as ten
    assert policy.window() == pytest.approx(0.0032)


def test_the_arrival_gap_is_a_running_mean():
    policy = Policy(smoothing=0.5, gap=0.004)
    policy.arrived(10.0)
    assert policy.gap == 0.004  # the first arrival only starts the clock
    policy.arrived(10.002)
    assert policy.gap == pytest.approx(0.003)


class Recorder:
    """A publish that records each call and can be held back until released."""

    def __init__(self, fail: Exception | None = None):
        self.calls: list[tuple] = []
        self.release = threading.Event()
        self.release.set()
        self.fail = fail

    def __call__(self, key, payload, request_ids):
        self.calls.append((key, [e["n"] for e in payload], request_ids))
        assert self.release.wait(5)
        if self.fail:
            raise self.fail


def submit_in_thread(group, key, n):
    errors = []

    def run():
        try:
            group.submit(key, [{"n": n}], f"r{n}")
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def wait_for(condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_lone_request_is_not_delayed():
    publish = Recorder()
    group = GroupCommit(publish, max_window=1.0)
    started = time.monotonic()
    group.submit("k", [{"n": 1}], "r1")
    assert time.monotonic() - started < 0.5  # the window is one second
    assert publish.calls == [("k", [1], ["r1"])]


def test_requests_arriving_during_a_write_share_the_next_one():
    publish = Recorder()
    publish.release.clear()
    group = GroupCommit(publish, max_window=5.0, target=10**6)
    first, _ = submit_in_thread(group, "k", 1)
    wait_for(lambda: len(publish.calls) == 1)  # written alone, held in flight
    others = [submit_in_thread(group, "k", n)[0] for n in (2, 3, 4)]
    wait_for(lambda: len(group.senders["k"].group) == 3)
    other_key, _ = submit_in_thread(group, "other", 9)  # another sender does not wait
    wait_for(lambda: len(publish.calls) == 2)
    assert publish.calls[1] == ("other", [9], ["r9"])
    started = time.monotonic()
    publish.release.set()
    for thread in (first, *others, other_key):
        thread.join(5)
    assert time.monotonic() - started < 2  # written when the write ahead returned, not at 5 s
    assert sorted(publish.calls[2][1]) == [2, 3, 4] and len(publish.calls) == 3
    assert group.senders == {}


def test_a_group_stops_waiting_at_its_window():
    publish = Recorder()
    publish.release.clear()
    group = GroupCommit(publish, max_window=0.05)
    first, _ = submit_in_thread(group, "k", 1)
    wait_for(lambda: len(publish.calls) == 1)
    second, _ = submit_in_thread(group, "k", 2)
    wait_for(lambda: len(publish.calls) == 2, timeout=2)  # the write ahead is still held
    publish.release.set()
    first.join(5)
    second.join(5)
    assert publish.calls[1][1] == [2]


def test_a_full_group_is_written_without_waiting():
    publish = Recorder()
    publish.release.clear()
    group = GroupCommit(publish, max_window=5.0, max_events=2)
    threads = [submit_in_thread(group, "k", 1)[0]]
    wait_for(lambda: len(publish.calls) == 1)
    threads += [submit_in_thread(group, "k", n)[0] for n in (2, 3)]
    wait_for(lambda: len(publish.calls) == 2, timeout=2)
    assert sorted(publish.calls[1][1]) == [2, 3]
    publish.release.set()
    for thread in threads:
        thread.join(5)


def test_every_request_of_a_group_gets_its_writes_error():
    publish = Recorder(fail=RuntimeError("redis away"))
    publish.release.clear()
    group = GroupCommit(publish, max_window=5.0)
    runs = [submit_in_thread(group, "k", 1)]
    wait_for(lambda: len(publish.calls) == 1)
    runs += [submit_in_thread(group, "k", n) for n in (2, 3)]
    wait_for(lambda: len(group.senders["k"].group) == 2)
    publish.release.set()
    for thread, errors in runs:
        thread.join(5)
        assert [str(e) for e in errors] == ["redis away"]
    assert len(publish.calls) == 2
