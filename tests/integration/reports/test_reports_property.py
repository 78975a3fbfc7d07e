"""Random histories in PostgreSQL: every report agrees exactly with its plain-Python model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.reports import model
from webapp.models import iso
from webapp.reads.filters import Condition
from webapp.reads.ranges import day_start
from webapp.reports import breakdown, funnel, paths, retention, timeline
from webapp.reports import cache as report_cache
from webapp.reports.columns import load
from webapp.reports.definition import Match, Scope

TYPES = ["signup", "view", "buy", "share"]
USERS = [f"u{i}" for i in range(6)]
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Lord_Howe"]
# each base is a day or two before a DST change somewhere among ZONES
BASES = [datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 28, tzinfo=UTC),
         datetime(2026, 4, 4, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC),
         datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)]
SPAN = 20 * 86_400  # events spread over 20 days from the base

META = st.fixed_dictionaries({}, optional={
    "plan": st.sampled_from(["free", "pro", "pro-max", 7]),
    "page": st.sampled_from(["/checkout", "/checkout/pay", "/pricing", "/"]),
})
# anywhere in the span, or on whole minutes and half hours (ties, and steps exactly one
# conversion window apart)
OFFSET = st.one_of(st.integers(0, SPAN), st.integers(0, 40).map(lambda n: n * 1800),
                   st.integers(0, 20).map(lambda n: n * 60))
EVENT = st.tuples(st.sampled_from(TYPES), st.sampled_from(USERS), OFFSET, META)
CONDITION = st.one_of(
    st.builds(Condition, st.just("plan"), st.sampled_from(["pro", "free", "7"])),
    st.builds(Condition, st.just("page"), st.sampled_from(["/checkout", "/p"]),
              st.just("prefix")),
)
MATCH = st.builds(Match, st.sampled_from(TYPES),
                  st.lists(CONDITION, max_size=1).map(tuple))
PLAIN = st.builds(Match, st.sampled_from(TYPES))  # no conditions: the packed days serve it
ANY_OR_TYPE = st.one_of(st.just(Match(None)), st.builds(Match, st.sampled_from(TYPES)))


@st.composite
def scopes(draw, project_id: int, filtered: bool = True):
    zone = draw(st.sampled_from(ZONES))
    base = draw(st.sampled_from(BASES))
    filters = tuple(draw(st.lists(CONDITION, max_size=1 if filtered else 0)))
    if draw(st.booleans()):  # whole local days
        first = (base + timedelta(days=draw(st.integers(-1, 10)))).date()
        start = day_start(first, zone)
        end = day_start(first + timedelta(days=draw(st.integers(1, 14))), zone)
    else:  # instants
        start = base + timedelta(seconds=draw(st.integers(-3600, SPAN)))
        end = start + timedelta(seconds=draw(st.integers(60, SPAN)))
    return Scope(project_id, start, end, zone, filters), base


def store(app, project_id: int, base: datetime, events: list[tuple]) -> list[model.Row]:
    from webapp.db import database
    from webapp.store.insert import store_batch

    payload = [{"id": f"e{i}", "type": kind, "user": user, "meta": meta,
                "ts": iso(base + timedelta(seconds=offset)), "rcv": iso(base)}
               for i, (kind, user, offset, meta) in enumerate(events)]
    with app.app_context():
        for table in ("event", "event_rollup_minute", "event_rollup_hour"):
            database.execute_sql(f"DELETE FROM {table} WHERE project_id = %s", (project_id,))
        if payload:
            store_batch(project_id, payload)
        report_cache.forget_all(app.extensions["redis"])  # events were removed
        stored = database.execute_sql(
            'SELECT id, event_type, user_id, "timestamp", metadata FROM event '
            "WHERE project_id = %s", (project_id,)).fetchall()
    return [model.Row(*row) for row in stored]


def run(app, data, project_id: int, events: list[tuple], report, definition,
        filtered: bool = True):
    """Draw a scope, store the history, run the report: (its answer, the scope, the rows)."""
    scope, base = data.draw(scopes(project_id, filtered))
    rows = store(app, project_id, base, events)
    return both_ways(app, report, definition, scope), scope, rows


def both_ways(app, report, definition, scope) -> dict:
    """The report from SQL, and from the packed days where it can be: the same answer."""
    with app.app_context():
        with load.off():
            from_sql = report.compute(definition, scope)
        got = report.compute(definition, scope)
    assert got == from_sql
    return got


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
HISTORY = st.lists(EVENT, max_size=45)


@pytest.fixture
def project_id(project):
    return project.id


@SETTINGS
@given(data=st.data(), events=HISTORY,
       steps=st.lists(MATCH, min_size=2, max_size=4).map(tuple),
       window=st.sampled_from([timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=6),
                               timedelta(days=2), timedelta(days=90)]),
       mode=st.sampled_from(funnel.MODES), split=st.sampled_from([None, "plan", "page"]))
def test_funnel_agrees_with_model(app, project_id, data, events, steps, window, mode, split):
    scope, base = data.draw(scopes(project_id))
    check_funnel(app, scope, base, events, funnel.Funnel(steps, window, mode, split))


@SETTINGS
@given(data=st.data(), events=HISTORY, steps=st.lists(PLAIN, min_size=2, max_size=4).map(tuple),
       window=st.sampled_from([timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=6),
                               timedelta(days=2), timedelta(days=90)]),
       mode=st.sampled_from(funnel.MODES))
def test_funnel_from_packed_days_agrees_with_model(app, project_id, data, events, steps,
                                                   window, mode):
    scope, base = data.draw(scopes(project_id, filtered=False))
    definition = funnel.Funnel(steps, window, mode)
    check_funnel(app, scope, base, events, definition)
    with app.app_context():
        assert funnel._fast(definition, scope) is not None  # the engine served it


def test_funnel_boundaries_agree_with_model(app, project_id):
    """Steps exactly one window apart convert; ties in time are ordered by storage."""
    base = BASES[0]
    events = [("signup", "u0", 0, {"plan": "pro"}), ("view", "u0", 1800, {}),
              ("buy", "u0", 3600, {}), ("signup", "u1", 0, {}), ("view", "u1", 1801, {}),
              ("signup", "u2", 60, {}), ("view", "u2", 60, {}), ("buy", "u2", 60, {})]
    scope = Scope(project_id, base, base + timedelta(days=1))
    steps = (Match("signup"), Match("view"), Match("buy"))
    for mode in funnel.MODES:
        got = check_funnel(app, scope, base, events,
                           funnel.Funnel(steps, timedelta(minutes=30), mode, "plan"))
        assert [s["users"] for s in got["steps"]] == [3, 2, 1]


def check_funnel(app, scope, base, events, definition) -> dict:
    rows = store(app, scope.project_id, base, events)
    got = both_ways(app, funnel, definition, scope)
    for period, got_period in ((scope, got), (scope.previous(), got["previous"])):
        expected = model.funnel(definition, period, rows)
        keys = expected["steps"][0].keys()
        assert [{k: s[k] for k in keys} for s in got_period["steps"]] == expected["steps"]
        assert got_period.get("breakdown") == expected.get("breakdown")
    return got


@SETTINGS
@given(data=st.data(), events=HISTORY, start=ANY_OR_TYPE, back=ANY_OR_TYPE,
       unit=st.sampled_from(list(retention.UNITS)), periods=st.integers(1, 12),
       mode=st.sampled_from(retention.MODES))
def test_retention_agrees_with_model(app, project_id, data, events, start, back, unit, periods,
                                     mode):
    definition = retention.Retention(start, back, unit, periods, mode)
    got, scope, rows = run(app, data, project_id, events, retention, definition)
    cohorts = [{k: c[k] for k in ("cohort", "users", "counts")} for c in got["cohorts"]]
    assert cohorts == model.retention(definition, scope, rows)


@SETTINGS
@given(data=st.data(), events=HISTORY, start=ANY_OR_TYPE, back=ANY_OR_TYPE,
       unit=st.sampled_from(list(retention.UNITS)), periods=st.integers(1, 12),
       mode=st.sampled_from(retention.MODES))
def test_retention_from_packed_days_agrees_with_model(app, project_id, data, events, start,
                                                      back, unit, periods, mode):
    definition = retention.Retention(start, back, unit, periods, mode)
    got, scope, rows = run(app, data, project_id, events, retention, definition, filtered=False)
    cohorts = [{k: c[k] for k in ("cohort", "users", "counts")} for c in got["cohorts"]]
    assert cohorts == model.retention(definition, scope, rows)
    with app.app_context():
        assert retention._fast(definition, scope) is not None


@SETTINGS
@given(data=st.data(), events=HISTORY, anchor=MATCH,
       direction=st.sampled_from(paths.DIRECTIONS), depth=st.integers(1, 5))
def test_paths_agree_with_model(app, project_id, data, events, anchor, direction, depth):
    definition = paths.Paths(anchor, direction, depth)
    got, scope, rows = run(app, data, project_id, events, paths, definition)
    assert {"users": got["users"], "paths": got["paths"]} == model.paths(definition, scope, rows)


@SETTINGS
@given(data=st.data(), events=HISTORY, anchor=PLAIN,
       direction=st.sampled_from(paths.DIRECTIONS), depth=st.integers(1, 5))
def test_paths_from_packed_days_agree_with_model(app, project_id, data, events, anchor,
                                                  direction, depth):
    definition = paths.Paths(anchor, direction, depth)
    got, scope, rows = run(app, data, project_id, events, paths, definition, filtered=False)
    assert {"users": got["users"], "paths": got["paths"]} == model.paths(definition, scope, rows)
    with app.app_context():
        assert paths._fast(definition, scope) is not None


@SETTINGS
@given(data=st.data(), events=HISTORY, prop=st.sampled_from(["plan", "page", "absent"]),
       events_of=ANY_OR_TYPE, limit=st.integers(1, 5))
def test_breakdown_agrees_with_model(app, project_id, data, events, prop, events_of, limit):
    definition = breakdown.Breakdown(prop, events_of, limit)
    got, scope, rows = run(app, data, project_id, events, breakdown, definition)
    expected = model.breakdown(definition, scope, rows)
    assert {k: got[k] for k in expected} == expected


@SETTINGS
@given(data=st.data(), events=HISTORY, prop=st.sampled_from(["plan", "page", "absent"]),
       events_of=ANY_OR_TYPE, limit=st.integers(1, 5))
def test_breakdown_from_packed_days_agrees_with_model(app, project_id, data, events, prop,
                                                      events_of, limit):
    definition = breakdown.Breakdown(prop, events_of, limit)
    got, scope, rows = run(app, data, project_id, events, breakdown, definition, filtered=False)
    expected = model.breakdown(definition, scope, rows)
    assert {k: got[k] for k in expected} == expected
    with app.app_context():
        assert breakdown._fast(definition, scope) is not None


@SETTINGS
@given(data=st.data(), user=st.sampled_from(USERS[:2]), limit=st.integers(1, 7),
       bounded=st.booleans(), today=st.one_of(st.none(), st.integers(-1, 21)),
       events=st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from(USERS[:2]), OFFSET,
                                 META), min_size=15, max_size=45))  # two users: long timelines
def test_timeline_agrees_with_model(app, project_id, data, events, user, limit, bounded, today):
    """`today` splits the history into the cached days before it and today's rows read each
    time (None: the real today, after every event)."""
    scope, base = data.draw(scopes(project_id))
    now = None if today is None else base + timedelta(days=today, hours=12)
    if not bounded:
        scope = Scope(project_id, None, None, scope.time_zone, scope.filters)
    rows = store(app, project_id, base, events)
    expected = model.timeline(scope, user, rows)
    with app.app_context():
        from webapp.db import database

        event_ids = dict(database.execute_sql(
            "SELECT id, event_id FROM event WHERE project_id = %s", (project_id,)).fetchall())
        got = timeline.compute(scope, user, limit, now=now)
        listed = [e["id"] for e in got["events"]]
        while got["nextCursor"]:
            got = timeline.compute(scope, user, limit, got["nextCursor"], now=now)
            listed += [e["id"] for e in got["events"]]
    assert listed == [event_ids[i] for i in expected["ids"]]
    assert got["totalEvents"] == expected["total"]
    assert got["eventTypes"] == expected["types"]
    assert got["firstSeen"] == (iso(expected["first"]) if expected["first"] else None)
    assert got["lastSeen"] == (iso(expected["last"]) if expected["last"] else None)
