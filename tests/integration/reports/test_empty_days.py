"""Empty days cost nothing: a report builds packed rows only for the days that hold events,
however far its range or the project's history reaches, and a breakdown by a property no event
has keeps no row."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from tests.integration.reports.test_reports_property import store
from webapp.models import iso
from webapp.reports import breakdown, params
from webapp.reports.columns import load
from webapp.reports.definition import Scope, time_limit

BASE = datetime(2026, 3, 7, tzinfo=UTC)
NOW = BASE + timedelta(days=3)
LIMIT_MS = 10_000  # far more than building a few days takes; days by the thousand outlast it


def rows(table: str) -> int:
    from webapp.db import database

    return database.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0]


def event_days() -> int:
    from webapp.db import database

    return database.execute_sql(
        "SELECT count(DISTINCT (\"timestamp\" AT TIME ZONE 'UTC')::date) FROM event"
    ).fetchone()[0]


def report(kind: str, project_id: int, **args) -> dict:
    """A report as the API runs it inline, within a (generous) time limit."""
    with time_limit(LIMIT_MS):
        return params.run(kind, MultiDict(args), project_id, "UTC", NOW)


HISTORY = [("signup", "u1", 60, {"plan": "pro"}), ("view", "u1", 86_400, {}),
           ("signup", "u2", 2 * 86_400, {"plan": "free"}), ("view", "u2", 2 * 86_400 + 9, {})]


def test_a_retention_report_far_in_the_future_builds_only_days_with_events(app, project):
    store(app, project.id, BASE, HISTORY)
    with app.app_context():
        data = report("retention", project.id, **{"from": "2400-01-01", "to": "2400-01-02"})
        assert data["cohorts"] == []
        assert rows("report_day") <= event_days() == 3


def test_a_retention_report_over_a_history_from_year_one_builds_only_days_with_events(
        app, project):
    store(app, project.id, BASE, HISTORY)
    from webapp.store.insert import store_batch

    with app.app_context():
        store_batch(project.id, [{"id": "ancient", "type": "signup", "user": "u3", "meta": {},
                                  "ts": "0001-01-01T00:00:00.000Z", "rcv": iso(BASE)}])
        data = report("retention", project.id, **{"from": "2026-03-07", "to": "2026-03-10"})
        assert [(c["cohort"], c["users"]) for c in data["cohorts"]] == [
            ("2026-03-07", 1), ("2026-03-09", 1)]  # u3 was born in year 1
        assert data["cohorts"][0]["counts"][:2] == [1, 1]
        assert rows("report_day") <= event_days() == 4


@pytest.mark.parametrize(("kind", "args"), [
    ("funnel", {"step": ["signup", "view"]}),
    ("paths", {"event": "signup"}),
    ("breakdown", {"property": "plan"}),
])
def test_other_reports_over_a_range_of_empty_days_build_nothing(app, project, kind, args):
    store(app, project.id, BASE, HISTORY)
    with app.app_context():
        empty = report(kind, project.id, **{"from": "2030-01-01", "to": "2031-01-31"}, **args)
        assert rows("report_day") == rows("report_prop") == 0
        assert empty.get("total", 0) == empty.get("users", 0) == 0
        # over the days with events, as many rows as days that hold them
        report(kind, project.id, **{"from": "2026-01-01", "to": "2027-01-31"}, **args)
        assert rows("report_day") + rows("report_prop") <= event_days()


def test_breakdowns_by_properties_no_event_has_keep_no_rows(app, project):
    store(app, project.id, BASE, HISTORY)
    scope = Scope(project.id, BASE - timedelta(days=390), BASE + timedelta(days=10))
    with app.app_context():
        for _ in range(20):
            name = "absent_" + secrets.token_hex(4)
            got = breakdown.compute(breakdown.Breakdown(name), scope)
            assert (got["total"], got["values"]) == (4, [
                {"value": None, "count": 4, "uniqueUsers": 2, "share": 100.0}])
        assert rows("report_prop") == 0
        # a property on two of the three days: their rows; the third day from report_day
        got = breakdown.compute(breakdown.Breakdown("plan"), scope)
        with load.off():
            assert got == breakdown.compute(breakdown.Breakdown("plan"), scope)
        assert rows("report_prop") == 2
        assert [(v["value"], v["count"]) for v in got["values"]] == [
            (None, 2), ("free", 1), ("pro", 1)]
