"""The spike/drop statistic against a direct computation, and the threshold comparison."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from webapp.alerts.statistics import Baseline, change_breached, threshold_breached

COUNTS = st.integers(0, 10_000)


@given(current=COUNTS, history=st.lists(COUNTS, min_size=1, max_size=4),
       z=st.floats(0.5, 10), volume=st.integers(0, 500))
def test_z_score_against_statistics_module(current, history, z, volume):
    base = Baseline(current, tuple(history))
    mean = statistics.fmean(history)
    spread = statistics.stdev(history) if len(history) > 1 else 0.0
    sigma = max(spread, max(mean, 1.0) ** 0.5)
    expected = (current - mean) / sigma
    assert abs(base.z - expected) < 1e-9
    if abs(abs(expected) - z) < 1e-6:
        return  # on the boundary itself rounding may decide either way
    assert change_breached("spike", base, z, volume) == (current >= volume and expected >= z)
    assert change_breached("drop", base, z, volume) == (mean >= volume and expected <= -z)


def test_flat_history_uses_the_poisson_floor():
    base = Baseline(130, (100, 100, 100, 100))
    assert base.sigma == 10 and base.z == 3
    assert change_breached("spike", base, 3, 10)
    assert not change_breached("spike", Baseline(129, (100,) * 4), 3, 10)


def test_no_history_no_verdict():
    assert not change_breached("spike", Baseline(10**6, ()), 3, 0)
    assert not change_breached("drop", Baseline(0, ()), 3, 0)


def test_threshold():
    assert threshold_breached(">", 100, 101) and not threshold_breached(">", 100, 100)
    assert threshold_breached("<", 1, 0) and not threshold_breached("<", 1, 1)


def test_ranges_split_into_whole_hours_and_minutes():
    from datetime import UTC, datetime

    from webapp.alerts.counts import by_unit

    at = lambda h, m: datetime(2026, 1, 1, h, m, tzinfo=UTC)  # noqa: E731
    assert by_unit(at(10, 5), at(11, 4)) == [(at(10, 5), at(11, 4), False)]
    assert by_unit(at(10, 0), at(11, 0)) == [(at(10, 0), at(11, 0), True)]
    assert by_unit(at(9, 59), at(12, 1)) == [(at(10, 0), at(12, 0), True),
                                            (at(9, 59), at(10, 0), False),
                                            (at(12, 0), at(12, 1), False)]
