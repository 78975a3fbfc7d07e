"""The report engine's column passes against the plain-Python models, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.integration.reports import model
from webapp.reads.ranges import local_date
from webapp.reports import engine
from webapp.reports.breakdown import Breakdown
from webapp.reports.definition import Match, Scope
from webapp.reports.events import Events, instant_us
from webapp.reports.funnel import MODES, Funnel
from webapp.reports.paths import DIRECTIONS, TOP, Paths
from webapp.reports.retention import MAX_PERIODS, Retention
from webapp.reports.retention import MODES as RETENTION_MODES

TYPES = ["signup", "view", "buy", "share"]
USERS = [f"u{i}" for i in range(4)]
ZONES = ["UTC", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
BASE = datetime(2026, 3, 28, tzinfo=UTC)  # days before DST changes in Europe and America
SPAN = 4 * 86_400
# anywhere in the span, or on whole minutes and half hours (ties, and steps exactly one
# conversion window apart)
OFFSET = st.one_of(st.integers(0, SPAN), st.integers(0, 40).map(lambda n: n * 1800),
                   st.integers(0, 20).map(lambda n: n * 60))
HISTORY = st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from(USERS), OFFSET),
                   min_size=3, max_size=60)
EXAMPLES = settings(max_examples=300, deadline=None)


def rows_of(history) -> list[model.Row]:
    return [model.Row(i, kind, user, BASE + timedelta(seconds=offset), {})
            for i, (kind, user, offset) in enumerate(history)]


def columns_of(rows: list[model.Row]) -> Events:
    """What the packed days hold: sorted by (user number, time, storage id)."""
    numbers = {user: 1000 + 7 * i for i, user in enumerate(sorted({r.user for r in rows}))}
    names = tuple(sorted({r.type for r in rows}))
    ordered = sorted(rows, key=lambda r: (numbers[r.user], r.ts, r.id))
    return Events(
        np.array([numbers[r.user] for r in ordered], np.int64),
        np.array([instant_us(r.ts) for r in ordered], np.int64),
        np.array([names.index(r.type) for r in ordered], np.int16), names)


@st.composite
def scopes(draw):
    start = BASE + timedelta(seconds=draw(st.one_of(st.integers(-3600, 0),
                                                    st.integers(-3600, SPAN))))
    end = start + timedelta(seconds=draw(st.one_of(st.integers(60, SPAN),
                                                   st.just(SPAN + 7200))))
    return Scope(1, start, end, draw(st.sampled_from(ZONES)))


def in_scope(events: Events, scope: Scope) -> Events:
    return events.between(instant_us(scope.start), instant_us(scope.end))


@EXAMPLES
@given(history=HISTORY, scope=scopes(),
       steps=st.lists(st.sampled_from(TYPES), min_size=2, max_size=5).map(tuple),
       window=st.sampled_from([timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=6),
                               timedelta(days=2), timedelta(days=90)]),
       mode=st.sampled_from(MODES))
@example(history=[("signup", "u0", 0), ("view", "u0", 1800), ("buy", "u0", 1800)],
         scope=Scope(1, BASE, BASE + timedelta(days=1)), steps=("signup", "view", "buy"),
         window=timedelta(minutes=30), mode="ordered")  # exactly one window apart; a tie
@example(history=[("signup", "u0", 0), ("signup", "u0", 60), ("view", "u0", 120)],
         scope=Scope(1, BASE, BASE + timedelta(days=1)), steps=("signup", "view"),
         window=timedelta(days=2), mode="ordered")  # the earliest of equal attempts times it
def test_funnel(history, scope, steps, window, mode):
    rows = rows_of(history)
    definition = Funnel(tuple(Match(step) for step in steps), window, mode)
    counts, quantiles = engine.funnel(in_scope(columns_of(rows), scope), steps, window,
                                      mode == "strict")
    expected = model.funnel(definition, scope, rows)["steps"]
    assert counts == [s["users"] for s in expected]
    assert [q[0] if q else None for q in quantiles] == [s["medianSeconds"] for s in expected]
    assert [q[1] if q else None for q in quantiles] == [s["p90Seconds"] for s in expected]


@EXAMPLES
@given(history=HISTORY, scope=scopes(), anchor=st.sampled_from(TYPES),
       direction=st.sampled_from(DIRECTIONS), depth=st.integers(1, 5))
def test_paths(history, scope, anchor, direction, depth):
    rows = rows_of(history)
    users, walks = engine.paths(in_scope(columns_of(rows), scope), anchor,
                                direction == "after", depth, TOP)
    expected = model.paths(Paths(Match(anchor), direction, depth), scope, rows)
    assert users == expected["users"]
    assert [{"events": list(w), "users": n} for w, n in walks] == expected["paths"]


@EXAMPLES
@given(history=HISTORY, scope=scopes(),
       born=st.sampled_from([None, *TYPES]), back=st.sampled_from([None, *TYPES]),
       week=st.booleans(), periods=st.integers(1, MAX_PERIODS),
       mode=st.sampled_from(RETENTION_MODES))
def test_retention(history, scope, born, back, week, periods, mode):
    rows = rows_of(history)
    definition = Retention(Match(born), Match(back), "week" if week else "day", periods, mode)
    events = columns_of(rows).between(None, instant_us(scope.end))
    first = local_date(scope.start, scope.time_zone)
    last = local_date(scope.end - timedelta(microseconds=1), scope.time_zone)
    found = engine.retention(events, instant_us(scope.start),
                             instant_us(scope.end), born, back, week, periods,
                             mode == "on_or_after", scope.time_zone, first, last, MAX_PERIODS)
    expected = model.retention(definition, scope, rows)
    step = 7 if week else 1
    got = [{"cohort": cohort.isoformat(), "users": users,
            "counts": [n if cohort + timedelta(days=step * i) <= last else None
                       for i, n in enumerate(counts)]}
           for cohort, users, counts in found]
    assert got == expected


def test_a_type_no_event_has_matches_nothing():
    rows = rows_of([("signup", "u0", 0), ("view", "u0", 60)])
    events = columns_of(rows)
    assert engine.funnel(events, ("buy", "view"), timedelta(days=1), False) == \
        ([0, 0], [None, None])
    assert engine.paths(events, "buy", True, 3, TOP) == (0, [])


@EXAMPLES
@given(history=st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from(USERS),
                                  st.sampled_from(["/", "/pricing", "/docs", None])),
                        max_size=60),
       limit=st.integers(1, 5), cells=st.sampled_from([engine.BITMAP_CELLS, 0]))
def test_breakdown(history, limit, cells):
    """Users per value counted in one pass (a bitmap row per value) or, when that would not
    fit (`cells` 0), a value at a time."""
    rows = [model.Row(i, kind, user, BASE, {} if page is None else {"page": page})
            for i, (kind, user, page) in enumerate(history)]
    values = tuple(sorted({r.meta["page"] for r in rows if "page" in r.meta}))
    numbers = {user: 10 + 3 * i for i, user in enumerate(USERS)}
    users = np.array([numbers[r.user] for r in rows], np.int64)
    codes = np.array([values.index(r.meta["page"]) if "page" in r.meta else -1 for r in rows],
                     np.int32)
    kept, engine.BITMAP_CELLS = engine.BITMAP_CELLS, cells
    try:
        total, found = engine.breakdown(users, codes, values, limit)
    finally:
        engine.BITMAP_CELLS = kept
    expected = model.breakdown(Breakdown("page", Match(None), limit), Scope(1, None, None),
                               rows)
    assert total == expected["total"]
    assert [{"value": v, "count": n, "uniqueUsers": u} for v, n, u in found] == \
        [{k: v[k] for k in ("value", "count", "uniqueUsers")} for v in expected["values"]]


@EXAMPLES
@given(offsets=st.lists(st.integers(-3 * 86_400, 12 * 86_400), max_size=30),
       first=st.integers(-2, 6), days=st.integers(0, 6),
       zone=st.sampled_from([*ZONES, "Pacific/Kiritimati", "Pacific/Niue"]))
def test_local_days_are_the_local_dates_of_the_instants(offsets, first, days, zone):
    start = BASE.date() + timedelta(days=first)
    last = start + timedelta(days=days)
    instants = sorted(BASE + timedelta(seconds=n) for n in offsets)
    got, _ = engine.local_days(np.array([instant_us(m) for m in instants], np.int64),
                               start, last, zone)
    expected = [-1 if day < start else min((day - start).days, days + 1)
                for day in (local_date(m, zone) for m in instants)]
    assert got.tolist() == expected
