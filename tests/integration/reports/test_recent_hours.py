"""Recent days read an hour at a time: after a commit to the current hour only that hour is
packed again, a late event repacks its own hour, and every report still answers exactly what
PostgreSQL answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from tests.integration.reports.test_reports_property import both_ways
from webapp.models import iso
from webapp.reports import breakdown, funnel, paths, retention, trends
from webapp.reports import cache as report_cache
from webapp.reports.columns import hours, memory
from webapp.reports.definition import Match, Scope


@pytest.fixture
def kept():
    """This process keeps packs, as a worker does."""
    memory.keep_in_memory(64)
    yield memory.MEMORY
    memory.keep_in_memory(0)


def commit(app, project_id: int, events: list[tuple]) -> None:
    """Store events as the worker does, counting the commit on their days and hours."""
    from webapp.store.insert import store_batch

    now = datetime.now(UTC)
    payload = [{"id": f"r{offset}-{kind}-{user}-{i}", "type": kind, "user": user,
                "meta": {"plan": plan, "amount": amount},
                "ts": iso(now - timedelta(seconds=offset)), "rcv": iso(now)}
               for i, (kind, user, offset, plan, amount) in enumerate(events)]
    with app.app_context():
        store_batch(project_id, payload)
        pipe = app.extensions["redis"].pipeline()
        report_cache.touch(pipe, project_id, payload)
        pipe.execute()


def every_report(app, scope: Scope) -> None:
    """Each report from the packed days (and hours) equals the same report from SQL."""
    args = MultiDict([("A", "signup"), ("A.measure", "users"), ("B", "*"),
                      ("B.measure", "sum"), ("B.property", "amount"), ("formula", "B / A"),
                      ("interval", "hour"), ("breakdown", "plan"), ("breakdown.series", "A")])
    definitions = [
        (trends, trends.from_args(args, lambda *_: (), [])),
        (funnel, funnel.Funnel((Match("signup"), Match("buy")), timedelta(hours=6),
                               "ordered", "plan")),
        (retention, retention.Retention(Match("signup"), Match(None), "day", 3, "on")),
        (paths, paths.Paths(Match("signup"), "after", 3)),
        (breakdown, breakdown.Breakdown("plan")),
    ]
    for report, definition in definitions:
        both_ways(app, report, definition, scope)


def test_recent_days_are_read_by_the_hour_and_stay_exact(app, project, kept, monkeypatch):
    packed = []
    original = hours.pack_day

    def counting(project_id, start, end):
        packed.append(start)
        return original(project_id, start, end)

    monkeypatch.setattr(hours, "pack_day", counting)
    with app.app_context():
        from webapp.db import database

        for table in ("event", "event_rollup_minute", "event_rollup_hour"):
            database.execute_sql(f"DELETE FROM {table} WHERE project_id = %s", (project.id,))
        report_cache.forget_all(app.extensions["redis"])
    # spread over the last 40 hours: yesterday and today, both recent
    history = [("signup", f"u{i % 7}", i * 2400, ["pro", "free"][i % 2],
                [19.99, "5", "x"][i % 3]) for i in range(60)]
    history += [("buy", f"u{i % 5}", i * 3000 + 60, "pro", 100) for i in range(40)]
    commit(app, project.id, history)
    now = datetime.now(UTC)
    scope = Scope(project.id, now - timedelta(days=2), now + timedelta(hours=1), "Europe/Berlin")
    every_report(app, scope)
    assert packed, "the recent days were read by the hour"
    hours_read = len(set(packed))

    # live traffic: a commit to the current hour repacks that hour alone
    packed.clear()
    commit(app, project.id, [("signup", "u-new", 1, "team", 7), ("buy", "u-new", 0, "team", 1)])
    every_report(app, scope)
    assert len(set(packed)) == 1  # the current hour

    # a late event repacks its own hour, and nothing else
    packed.clear()
    commit(app, project.id, [("buy", "u1", 20 * 3600, "free", 3)])
    every_report(app, scope)
    assert len(set(packed)) == 1 and hours_read > 1
