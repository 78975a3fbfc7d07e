"""Judging a rule on a computed trend: the latest bucket that has ended, exact thresholds on
decimals, spikes and drops against the earlier buckets (nulls left out), and what the message
says."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.alerts.statistics import RELATIVE_FLOOR, Baseline
from webapp.alerts.trends import MIN_HISTORY, judge, latest_complete
from webapp.models import AlertRule, SavedReport, iso

START = datetime(2026, 3, 2, tzinfo=UTC)
DAY = timedelta(days=1)


def trend(values: list, formula: list | None = None, measure: str = "events",
          days: int | None = None) -> dict:
    """A daily trend of series A (and a formula) as the trends report answers it."""
    days = days or len(values)
    return {"interval": "day", "timeZone": "UTC", "to": iso(START + days * DAY),
            "buckets": [{"timestamp": iso(START + i * DAY),
                         "local": (START + i * DAY).date().isoformat()} for i in range(days)],
            "series": [{"letter": "A", "label": "purchase: " + measure, "measure": measure,
                        "values": values}],
            "formula": None if formula is None else {"expression": "A / 10", "values": formula}}


def rule(series: str = "A", kind: str = "threshold", **extra) -> AlertRule:
    return AlertRule(id=1, name="R", kind=kind, series=series,
                     saved_report=SavedReport(id=3, name="Revenue"), **extra)


def test_the_latest_bucket_that_has_ended():
    data = trend([1, 2, 3, 4])
    assert latest_complete(data, START) is None
    assert latest_complete(data, START + DAY - timedelta(microseconds=1)) is None
    assert latest_complete(data, START + DAY) == 0  # it ends as the next one starts
    assert latest_complete(data, START + 3 * DAY + timedelta(hours=5)) == 2
    assert latest_complete(data, START + 30 * DAY) == 3  # the range's end


def test_a_threshold_on_a_decimal_is_exact():
    data = trend([1, 2, 3], formula=[0.1, 0.3, None])
    over = rule("formula", comparator=">", threshold=Decimal("0.3"))
    breached, value, detail = judge(over, data, START + 2 * DAY)
    assert (breached, value) == (False, 0.3)  # 0.3 is not above 0.3 (as floats, 0.1 * 3 is)
    assert detail == "the formula A / 10 was 0.3 on 2026-03-03 (UTC); the threshold is 0.3"
    assert judge(rule("formula", comparator="<", threshold=Decimal("0.30001")), data,
                 START + 2 * DAY)[0]
    assert judge(over, data, START + 3 * DAY) is None  # no value: a division by zero


def test_a_threshold_on_a_series_says_its_label_value_and_threshold():
    data = trend([1200, 1234, 0])
    breached, value, detail = judge(rule(comparator=">", threshold=Decimal("1000")), data,
                                    START + 2 * DAY + timedelta(hours=1))
    assert breached and value == 1234
    assert detail == ("A (purchase: events) was 1,234 on 2026-03-03 (UTC); the threshold is "
                      "1,000")


def test_a_spike_needs_earlier_buckets_with_a_value():
    data = trend([10, None, 11, 40], formula=[1, None, 1.1, 4])
    spike = rule(kind="spike", z_score=3.0, min_volume=10)
    assert judge(spike, data, START + 4 * DAY) is None  # two earlier values only
    data = trend([10, 12, None, 11, 40])
    breached, value, detail = judge(spike, data, START + 5 * DAY)
    history = [10, 12, 11]
    assert len(history) == MIN_HISTORY and value == 40
    mean = statistics.fmean(history)
    sigma = max(statistics.stdev(history), math.sqrt(mean))  # a count: Poisson's floor
    assert breached and f"z = {(40 - mean) / sigma:+.1f}" in detail
    assert "against 11 ± 3.32 in 3 earlier days" in detail


def test_a_spike_of_a_formula_has_no_poisson_floor():
    """A ratio of 0.02 to 0.03 is no count: its spread is the history's own (never below 5%
    of the mean), so a jump to 0.06 is a spike, where the counts' floor of 1 would hide it."""
    values = [0.02, 0.025, 0.03, 0.022, 0.06]
    data = trend([1] * 5, formula=values)
    spike = rule("formula", kind="spike", z_score=3.0, min_volume=0)
    breached, value, detail = judge(spike, data, START + 5 * DAY)
    spread = statistics.stdev(values[:4])
    assert breached and value == 0.06
    assert f"z = {(0.06 - statistics.fmean(values[:4])) / spread:+.1f}" in detail
    assert not judge(rule("formula", kind="spike", z_score=3.0, min_volume=1), data,
                     START + 5 * DAY)[0]  # below the minimum value
    flat = trend([1] * 5, formula=[50, 50, 50, 50, 51])
    assert not judge(spike, flat, START + 5 * DAY)[0]  # 1 in 50 is within 5% of the mean
    assert judge(spike, trend([1] * 5, formula=[50, 50, 50, 50, 60]), START + 5 * DAY)[0]


def test_a_drop_of_a_sum():
    data = trend([500, 520, 480, 510, 100], measure="sum")
    drop = rule(kind="drop", z_score=3.0, min_volume=10)
    breached, value, _ = judge(drop, data, START + 5 * DAY)
    assert breached and value == 100
    assert not judge(drop, data, START + 4 * DAY)[0]


@given(current=st.floats(-1e6, 1e6), history=st.lists(st.floats(-1e6, 1e6), min_size=2,
                                                      max_size=30))
def test_the_spread_of_values_that_are_not_counts(current, history):
    base = Baseline(current, tuple(history), counted=False)
    mean = statistics.fmean(history)
    sigma = max(statistics.stdev(history), abs(mean) * RELATIVE_FLOOR)
    assert base.sigma == pytest.approx(sigma, rel=1e-9, abs=1e-9)
    if sigma > 1e-6:
        assert base.z == pytest.approx((current - mean) / sigma, rel=1e-6, abs=1e-6)


def test_a_history_of_zeros():
    assert Baseline(0.5, (0.0, 0.0, 0.0), counted=False).z == math.inf
    assert Baseline(0.0, (0.0, 0.0, 0.0), counted=False).z == 0
    assert Baseline(5, (0, 0, 0)).z == 5  # counts: a floor of 1
