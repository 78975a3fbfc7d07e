"""The pure parts of trends: numbers, exact sums on every path, formulas and local buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.errors import BadFormula
from webapp.reports import formula, intervals, measures, numbers


@pytest.mark.parametrize(("text", "expected"), [
    ("19.99", Decimal("19.99")), ("-3", Decimal(-3)), ("2.5e3", Decimal("2.5e3")),
    ("0", Decimal(0)), (" 19.99", None), ("1,5", None), ("0x10", None), ("NaN", None),
    ("007", None), ("true", None), ("", None), (None, None), ("1e100", None),
    ("1" * 51, None), ("1." , None), (".5", None)])
def test_which_values_are_numbers(text, expected):
    assert numbers.number(text) == expected


def test_shown_values_round_half_to_even_at_six_places_and_stay_exact():
    assert numbers.shown(Fraction(1, 3)) == Decimal("0.333333")
    assert numbers.shown(Fraction(5, 10**7)) == 0  # 0.0000005 -> 0.000000 (half to even)
    assert numbers.shown(Fraction(15, 10**7)) == Decimal("0.000002")
    assert numbers.shown(Fraction(-7, 2)) == Decimal("-3.5")
    assert numbers.shown(Decimal("1E+3")) == 1000
    assert numbers.to_json(Decimal("19.99")) == 19.99
    assert numbers.to_json(Decimal("12345678901234567.5")) == "12345678901234567.5"


# values of every size: cents, large amounts (64-bit integers no longer hold their sum) and
# numbers with more than 18 decimal places (no 64-bit scale at all)
VALUE = st.one_of(st.integers(-10**6, 10**6).map(lambda n: f"{n / 100:.2f}"),
                  st.integers(-10**18, 10**18).map(str),
                  st.decimals(-1000, 1000, places=20, allow_nan=False).map(str),
                  st.sampled_from(["abc", "", "1,5"]))


@given(values=st.lists(VALUE, min_size=1, max_size=12, unique=True),
       picks=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 2)), max_size=40))
def test_sums_and_order_statistics_are_exact_on_every_path(values, picks):
    values = tuple(sorted(values))
    table = measures.Numbers.of(values)
    codes = np.array([c % len(values) for c, _ in picks], np.int64)
    slot = np.array([s for _, s in picks], np.int64)
    users = np.zeros(len(picks), np.int64)
    for slots_here, name in ((3, "sum"), (3, "min"), (3, "max"), (3, "median"), (3, "p90"),
                             (3, "avg")):
        got = measures.compute(name, slot, (1, slots_here), users, codes, table)
        for at in range(slots_here):
            found = sorted(n for c, s in zip(codes, slot, strict=True)
                           if s == at and (n := numbers.number(values[c])) is not None)
            if name == "sum":
                assert Fraction(got[at]) == sum(Fraction(n) for n in found)
            elif not found:
                assert got[at] is None
            elif name == "avg":
                assert got[at] == sum(Fraction(n) for n in found) / len(found)
            else:
                index = {"min": 0, "max": len(found) - 1,
                         "median": max(0, -(-len(found) // 2) - 1),
                         "p90": max(0, -(-9 * len(found) // 10) - 1)}[name]
                assert got[at] == found[index]


def test_formulas_are_parsed_never_evaluated_as_python():
    tree = formula.parse("(A - B) / A * 100", "AB")
    assert formula.evaluate(tree, {"A": Fraction(4), "B": Fraction(1)}) == 75
    assert formula.evaluate(formula.parse("A / B", "AB"), {"A": Fraction(1), "B": Fraction(0)}) \
        is None
    assert formula.evaluate(formula.parse("A * 0.1", "A"), {"A": Fraction(3)}) == \
        Fraction(3, 10)
    for bad in ("__import__('os')", "A ** 2", "A.real", "C + 1", "A if B else 1", "[A]",
                "A +", "1e999", "A" * 201, "lambda: 1", "A; B"):
        with pytest.raises(BadFormula):
            formula.parse(bad, "AB")


def test_local_buckets_across_changes_of_offset():
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    # 25 October: Europe/Berlin goes back an hour
    hours = intervals.starts("hour", "Europe/Berlin", start, start + timedelta(hours=25))
    assert len(hours) == 25
    assert [intervals.label(h, "hour", "Europe/Berlin") for h in hours[2:4]] == \
        ["2026-10-25T02:00+02:00", "2026-10-25T02:00+01:00"]
    kathmandu = intervals.starts("day", "Asia/Kathmandu", start, start + timedelta(days=2))
    assert kathmandu[1] == datetime(2026, 10, 25, 18, 15, tzinfo=UTC)  # 26 Oct, +05:45
    months = intervals.starts("month", "UTC", datetime(2026, 1, 15, tzinfo=UTC),
                              datetime(2026, 4, 1, tzinfo=UTC))
    assert [m.month for m in months] == [1, 2, 3] and months[0].day == 15
    assert intervals.problems_of("minute", start, start + timedelta(days=2))
    assert intervals.compared("year", datetime(2028, 2, 29, tzinfo=UTC),
                              datetime(2028, 3, 1, tzinfo=UTC), "UTC")[0].day == 28
    assert intervals.compared("previous", datetime(1, 1, 2, tzinfo=UTC),
                              datetime(1, 1, 3, tzinfo=UTC), "UTC") is None
