"""Evaluating rules against real rollups and Redis tallies: windows against a plain-Python
model, property filters through the worker, spikes and drops against past weeks, the daily
cap, and a destination refused at delivery time."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import INGEST_HEADERS, wait_until
from webapp.alerts import counts, deliver, evaluate, rules
from webapp.db import database
from webapp.models import AlertNotice, AlertRule, Project, iso
from webapp.store import insert

NOW = datetime(2026, 3, 10, 12, 30, 20, tzinfo=UTC)
TYPES = ["error", "signup", "click"]


@pytest.fixture
def no_worker(_worker_handle):
    """No worker: its periodic check would judge these rules at the real time meanwhile (a
    later test that needs one starts it again)."""
    _worker_handle.stop()


def rule(project, when: str, **extra) -> AlertRule:
    values, problems = rules.validate({"name": when, "when": when,
                                       "url": "http://127.0.0.1:9/none", **extra}, True)
    assert problems == {}, problems
    return rules.create(project, values)


def store(project_id: int, events: list[tuple[str, datetime]], meta: dict | None = None):
    insert.store_batch(project_id, [
        {"id": f"e{time.monotonic_ns()}-{i}", "type": kind, "user": "u", "ts": iso(at),
         "meta": meta or {}, "rcv": iso(at)} for i, (kind, at) in enumerate(events)])


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(st.tuples(st.sampled_from(TYPES), st.one_of(
           st.integers(-5, 30 * 60), st.integers(-240, 26 * 3600))), max_size=60),
       windows=st.lists(st.tuples(st.sampled_from(TYPES + [None]), st.one_of(
           st.integers(1, 40), st.integers(1, 1440))), min_size=1, max_size=5))
def test_window_counts_match_a_model(app, project, events, windows):
    """A window of N minutes holds the current minute and the N-1 before it; events stamped
    later than the current minute (up to 5 minutes ahead is allowed) are not in it. Long
    windows read whole hours from the hourly rollups: the sum is the same."""
    with app.app_context():
        database.execute_sql("DELETE FROM event; DELETE FROM event_rollup_minute; "
                             "DELETE FROM event_rollup_hour; DELETE FROM alert_rule")
        store(project.id, [(kind, NOW - timedelta(seconds=age)) for kind, age in events])
        made = [AlertRule.create(project=project, name="w", kind="threshold", event_type=kind,
                                 comparator=">", threshold=0, window_minutes=minutes, url="x",
                                 secret="s") for kind, minutes in windows]
        got = counts.from_rollups(project.id, counts.ranges(made, NOW, NOW))
    this_minute = NOW.replace(second=0)
    for made_rule in made:
        start = this_minute - timedelta(minutes=made_rule.window_minutes - 1)
        expected = sum(1 for kind, age in events
                       if made_rule.event_type in (None, kind)
                       and start <= (NOW - timedelta(seconds=age)).replace(
                           second=0, microsecond=0) <= this_minute)
        assert got.get((made_rule.id, 0), 0) == expected


def test_property_filter_counts_matching_events_through_the_worker(app, client, project, redis,
                                                                   worker):
    with app.app_context():
        pro = rule(project, "checkout > 2 in 5 min", where="plan=pro")
        coded = rule(project, "* > 1 in 5 min", where="code=500")
    time.sleep(1.2)  # the workers' rule cache

    def send(events):
        response = client.post("/webhook", data=json.dumps(events), headers=INGEST_HEADERS,
                               content_type="application/json")
        assert response.status_code == 202

    send([{"eventType": "checkout", "userId": "a", "metadata": {"plan": "pro"}},
          {"eventType": "checkout", "userId": "b", "metadata": {"plan": "free"}},
          {"eventType": "refund", "userId": "c", "metadata": {"plan": "pro"}},
          {"eventType": "error", "userId": "d", "metadata": {"code": 500}},
          {"eventType": "error", "userId": "e", "metadata": {"code": "500"}},
          {"eventType": "checkout", "userId": "f", "metadata": {"plan": "pro"}}])
    key = counts.tally_key(pro.id)
    wait_until(lambda: sum(int(v) for v in redis.hvals(key)) == 2, what="the tally")
    with app.app_context():
        wait_until(lambda: AlertRule.get_by_id(coded.id).state == "firing", timeout=5,
                   what="code=500 (a number and a string) to fire")
        assert AlertRule.get_by_id(pro.id).state == "ok"  # 2 is not > 2
    send([{"eventType": "checkout", "userId": "g", "metadata": {"plan": "pro"}}])
    with app.app_context():
        wait_until(lambda: AlertRule.get_by_id(pro.id).state == "firing", timeout=5,
                   what="the third pro checkout to fire the rule")
        notice = AlertNotice.get(AlertNotice.rule == pro.id)
        assert notice.value == 3 and "plan=pro" in notice.message


def history(project, kind: str, per_week: tuple[int, ...]) -> None:
    """The project existed six weeks ago; `per_week[k-1]` events k weeks before NOW."""
    Project.update(created_at=NOW - timedelta(weeks=6)).where(Project.id == project.id).execute()
    for weeks, count in enumerate(per_week, 1):
        store(project.id, [(kind, NOW - timedelta(weeks=weeks, minutes=30))] * count)


def test_spike_against_the_same_hour_of_past_weeks(app, project, redis, no_worker):
    with app.app_context():
        spike = rule(project, "checkout spike", z="3", min_volume="20")
        history(project, "checkout", (10, 14, 12, 9))
        store(project.id, [("checkout", NOW - timedelta(minutes=5))] * 19)
        assert evaluate.evaluate(redis, project.id, NOW) == []  # 19 is below the volume
        store(project.id, [("checkout", NOW)] * 21)  # 40 against 11.25 +- 3.35
        (fired,) = evaluate.evaluate(redis, project.id, NOW)
        notice = AlertNotice.get_by_id(fired)
        assert notice.rule_id == spike.id and notice.value == 40
        assert "against 11.2 ± 3.4 in the same hour of the past 4 week(s), z = +8.6" in (
            notice.message)
        # an hour on, the burst has left the window: resolved
        (resolved,) = evaluate.evaluate(redis, project.id, NOW + timedelta(minutes=61))
        assert AlertNotice.get_by_id(resolved).kind == "resolved"


def test_drop_needs_volume_in_the_baseline(app, project, redis, no_worker):
    with app.app_context():
        drop = rule(project, "signup drop", z="3", min_volume="20")
        quiet = rule(project, "logout drop", z="3", min_volume="20")
        history(project, "signup", (50, 55, 45, 52))
        history(project, "logout", (10, 12, 9, 11))
        earlier = NOW - timedelta(minutes=40)
        store(project.id, [("signup", earlier)] * 40 + [("logout", earlier)])
        assert evaluate.evaluate(redis, project.id, NOW) == []  # z = -1.6: within reason
        # 21 minutes on, those 40 have left the last hour; the past weeks' 12:00 has not
        (fired,) = evaluate.evaluate(redis, project.id, NOW + timedelta(minutes=21))
        assert AlertNotice.get_by_id(fired).rule_id == drop.id  # 0 against 50.5 +- 7.1
        assert AlertRule.get_by_id(quiet.id).state == "ok"  # a baseline of 10.5 is too little


def test_spike_needs_history(app, project, redis, no_worker):
    with app.app_context():
        rule(project, "checkout spike", min_volume="1")
        store(project.id, [("checkout", NOW)] * 500)
        assert evaluate.evaluate(redis, project.id, NOW) == []  # a new project: no baseline


def test_at_most_n_firings_a_day_and_resolved_only_when_sent(app, project, redis, no_worker):
    with app.app_context():
        capped = rule(project, "error > 0 in 1 min", max_per_day="2")
        sent = []
        for i in range(3):
            at = NOW + timedelta(minutes=2 * i)
            store(project.id, [("error", at)])
            sent += evaluate.evaluate(redis, project.id, at)  # fires
            sent += evaluate.evaluate(redis, project.id, at + timedelta(minutes=1))  # resolves
        statuses = [(n.kind, n.status) for n in
                    AlertNotice.select().where(AlertNotice.rule == capped.id)
                    .order_by(AlertNotice.id)]
        assert statuses == [("fired", "pending"), ("resolved", "pending")] * 2 + [
            ("fired", "suppressed"), ("resolved", "suppressed")]
        assert AlertRule.get_by_id(capped.id).state == "ok"


def test_destination_checked_again_at_delivery(app, project, redis, no_worker):
    with app.app_context():
        made = rule(project, "error > 0 in 1 min")
        store(project.id, [("error", NOW)])
        (notice_id,) = evaluate.evaluate(redis, project.id, NOW)
        AlertNotice.update(at=datetime.now(UTC), next_try_at=datetime.now(UTC)).execute()
        delay = deliver.attempt(notice_id, allow_private=False, now=datetime.now(UTC))
        notice = AlertNotice.get_by_id(notice_id)
        assert delay == 1 and notice.status == "pending" and notice.attempts == 1
        assert "private or loopback" in notice.last_error and made.url.startswith("http://127.")
        # a claimed or not yet due notice is not attempted twice
        assert deliver.attempt(notice_id, allow_private=False, now=datetime.now(UTC)) is None
        assert AlertNotice.get_by_id(notice_id).attempts == 1
        # a day of failures: given up
        AlertNotice.update(at=datetime.now(UTC) - timedelta(days=1),
                           next_try_at=datetime.now(UTC)).execute()
        assert deliver.attempt(notice_id, allow_private=True, now=datetime.now(UTC)) is None
        notice = AlertNotice.get_by_id(notice_id)
        assert notice.status == "failed" and "ConnectionRefused" in notice.last_error
