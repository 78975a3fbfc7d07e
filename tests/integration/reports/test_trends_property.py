"""Random histories in PostgreSQL: every trend (each measure, formula, interval, compare mode,
cumulative or not, broken down or not) agrees exactly with the plain-Python model, from SQL and
from the packed days alike, across DST changes and half-hour and 45-minute offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.integration.reports import trend_model
from tests.integration.reports.test_reports_property import (
    BASES,
    CONDITION,
    SETTINGS,
    TYPES,
    USERS,
    ZONES,
    both_ways,
    store,
)
from webapp.reads.ranges import day_start
from webapp.reports import intervals, trends
from webapp.reports.definition import Match, Scope
from webapp.reports.measures import MEASURES, NOT_CUMULATIVE, OF_PROPERTY

ZONES_HERE = [*ZONES, "Australia/Eucla"]  # +08:45 all year
AMOUNTS = [19.99, "19.99", 5, 0.1, 0.2, -3, 1000.5, "abc", "1,5", True, "007", "2.50"]
META = st.fixed_dictionaries({}, optional={
    "amount": st.sampled_from(AMOUNTS),
    "plan": st.sampled_from(["free", "pro", "team", 7]),
})
SPAN = 10 * 86_400
OFFSET = st.one_of(st.integers(0, SPAN), st.integers(0, 480).map(lambda n: n * 1800))
EVENT = st.tuples(st.sampled_from(TYPES), st.sampled_from(USERS), OFFSET, META)
HISTORY = st.lists(EVENT, max_size=50)
# (text, the same formula as a function of the letters)
FORMULAS = [("A / B * 100", lambda A, B, **_: A / B * 100),
            ("(A - B) / A", lambda A, B, **_: (A - B) / A),
            ("A + B * 2 - 0.5", lambda A, B, **_: A + B * 2 - Fraction(1, 2)),
            ("-A / (B - B)", lambda A, B, **_: -A / (B - B))]



@pytest.fixture
def project_id(project):
    return project.id


@st.composite
def a_series(draw, letter: str, filtered: bool):
    measure = draw(st.sampled_from(list(MEASURES)))
    prop = None
    if measure in OF_PROPERTY:
        prop = "plan" if measure == "distinct" and draw(st.booleans()) else "amount"
    conditions = tuple(draw(st.lists(CONDITION, max_size=1 if filtered else 0)))
    event = draw(st.one_of(st.just(None), st.sampled_from(TYPES)))
    return trends.Series(letter, Match(event, conditions), measure, prop)


@st.composite
def a_trend(draw, filtered: bool):
    count = draw(st.integers(1, 3))
    series = tuple(draw(a_series(letter, filtered)) for letter in "ABC"[:count])
    formula = draw(st.sampled_from(FORMULAS)) if count >= 2 and draw(st.booleans()) else None
    cumulative = draw(st.booleans()) and not any(s.measure in NOT_CUMULATIVE for s in series)
    breakdown = draw(st.sampled_from([None, "plan", "amount"]))
    return trends.Trend(series, None, formula[0] if formula else None,
                        draw(st.sampled_from([None, *intervals.COMPARE])), breakdown,
                        draw(st.sampled_from("ABC"[:count])), cumulative), formula


@st.composite
def a_scope(draw, project_id: int):
    zone = draw(st.sampled_from(ZONES_HERE))
    base = draw(st.sampled_from(BASES))
    if draw(st.booleans()):  # whole local days
        first = (base + timedelta(days=draw(st.integers(-1, 8)))).date()
        start = day_start(first, zone)
        end = day_start(first + timedelta(days=draw(st.integers(1, 9))), zone)
    else:  # instants
        start = base + timedelta(seconds=draw(st.integers(-3600, SPAN)))
        end = start + timedelta(seconds=draw(st.integers(60, 3 * 86_400)))
    length = end - start
    choices = [i for i in intervals.INTERVALS
               if not intervals.problems_of(i, start, end)
               and (i != "minute" or length <= timedelta(hours=6))]
    return Scope(project_id, start, end, zone), base, draw(st.sampled_from(choices))


def check(app, project_id, data, events, filtered: bool):
    (definition, formula) = data.draw(a_trend(filtered))
    scope, base, interval = data.draw(a_scope(project_id))
    definition = trends.Trend(definition.series, interval, definition.formula,
                              definition.compare, definition.breakdown,
                              definition.breakdown_series, definition.cumulative)
    rows = store(app, project_id, base, events)
    got = both_ways(app, trends, definition, scope)
    expected = trend_model.trend(definition, formula[1] if formula else None, scope, rows,
                                 interval)
    assert len(got["buckets"]) == expected["buckets"]
    assert [{k: s[k] for k in ("letter", "values", "total")} for s in got["series"]] == \
        expected["series"]
    assert (got["formula"] and {k: got["formula"][k] for k in ("values", "total")}) == \
        expected["formula"]
    if definition.compare and got["compare"] is not None:
        assert [{k: s[k] for k in ("letter", "values", "total")}
                for s in got["compare"]["series"]] == expected["compare"]["series"]
        assert (got["compare"]["formula"] and {k: got["compare"]["formula"][k]
                                               for k in ("values", "total")}) == \
            expected["compare"]["formula"]
    if definition.breakdown:
        line = next(s for s in got["series"] if s["letter"] == definition.breakdown_series)
        assert line["breakdown"] == expected["breakdown"]
    return got


@SETTINGS
@given(data=st.data(), events=HISTORY)
def test_trends_agree_with_model(app, project_id, data, events):
    check(app, project_id, data, events, filtered=True)


@SETTINGS
@given(data=st.data(), events=HISTORY)
def test_trends_from_packed_days_agree_with_model(app, project_id, data, events):
    check(app, project_id, data, events, filtered=False)


def test_a_dst_day_has_23_or_25_hours(app, project_id):
    """Hourly buckets of the local days clocks change on, and the hour that repeats."""
    for day, hours in (("2026-03-29", 23), ("2026-10-25", 25), ("2026-03-30", 24)):
        start = day_start(datetime.fromisoformat(day).date(), "Europe/Berlin")
        end = day_start(datetime.fromisoformat(day).date() + timedelta(days=1), "Europe/Berlin")
        labels = [b["local"] for b in
                  intervals.buckets("hour", "Europe/Berlin", start, end)]
        assert len(labels) == hours
        assert len(set(labels)) == hours  # the repeated hour differs by its offset
    start = datetime(2026, 4, 4, 12, tzinfo=UTC)  # Lord Howe: 02:00+11 back to 01:30+10:30
    half = intervals.starts("hour", "Australia/Lord_Howe", start, start + timedelta(hours=6))
    assert datetime(2026, 4, 4, 15, tzinfo=UTC) in half
    assert any(b.minute == 30 for b in half)
