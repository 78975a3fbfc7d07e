"""The packed days a worker process keeps in memory: newest builds, least recently used out."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.reports.columns.memory import MEMORY, Memory, merge, merge_kept


def day(n: int) -> tuple:
    return (("view",), np.zeros(n, np.int64))


def test_a_newer_build_of_a_day_replaces_the_older_and_the_budget_holds():
    memory = Memory()
    memory.budget = 1000
    memory.put(("report_day", 1, None, "d1", 5, 1), day(50))  # 400 bytes
    memory.put(("report_day", 1, None, "d1", 5, 2), day(50))  # the same day, rebuilt
    assert list(memory.items) == [("report_day", 1, None, "d1", 5, 2)] and memory.size == 400
    memory.put(("report_day", 1, None, "d2", 5, 1), day(50))
    assert memory.get(("report_day", 1, None, "d1", 5, 2)) is not None  # now the most recent
    memory.put(("report_day", 1, None, "d3", 5, 1), day(50))  # over budget: d2 goes
    assert memory.get(("report_day", 1, None, "d2", 5, 1)) is None
    assert memory.size == 800 and len(memory.items) == 2


def test_nothing_is_kept_without_a_budget_or_beyond_it():
    memory = Memory()
    memory.put(("report_day", 1, None, "d1", 5, 1), day(10))
    assert not memory.items
    memory.budget = 100
    memory.put(("report_day", 1, None, "d1", 5, 1), day(20))  # 160 bytes alone
    assert not memory.items and memory.size == 0


DAY_US = 86_400_000_000


@st.composite
def packed_day(draw, n: int, build: int) -> tuple:
    """Day `n` as `_fetch` gives it: (key, (names, users, times, kinds)), sorted by user and
    time, with its own list of type names (a day without events is not fetched)."""
    names = tuple(sorted(draw(st.sets(st.sampled_from(["buy", "signup", "view"]), min_size=1))))
    events = sorted(draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 99),
                                            st.integers(0, len(names) - 1)),
                                  min_size=1, max_size=12)))
    users, moments, kinds = (np.array(column, np.int64) for column in zip(*events, strict=True))
    return (("report_day", 1, None, f"d{n}", 5, build),
            (names, users, n * DAY_US + moments, kinds.astype(np.int16)))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), count=st.integers(0, 6))
def test_the_kept_merge_gives_what_merging_every_day_gives(data, count):
    """With a budget, the merge of all but the newest day is kept and the newest appended;
    the events come out exactly as one merge of every day: the first time, after some days
    are rebuilt (the newest, older ones, or both), and again."""
    first = [data.draw(packed_day(n, 0)) for n in range(count)]
    rebuilt = [data.draw(packed_day(n, 1)) if data.draw(st.booleans()) else day
               for n, day in enumerate(first)]
    MEMORY.items.clear()
    MEMORY.size, MEMORY.budget = 0, 2**20
    try:
        for days in (first, first, rebuilt, rebuilt):
            merged = merge_kept(days)
            expected = merge([value for _, value in days])
            assert merged.names == expected.names
            for got, want in ((merged.users, expected.users), (merged.times, expected.times),
                              (merged.kinds, expected.kinds)):
                assert got.tolist() == want.tolist()
        assert any(key[0] == "merged" for key in MEMORY.items) == (count >= 3)
        MEMORY.items.clear()
        MEMORY.size, MEMORY.budget = 0, 16  # no merge fits: none is made
        merged, expected = merge_kept(rebuilt), merge([v for _, v in rebuilt])
        assert merged.users.tolist() == expected.users.tolist()
        assert merged.times.tolist() == expected.times.tolist() and not MEMORY.items
    finally:
        MEMORY.items.clear()
        MEMORY.size, MEMORY.budget = 0, 0
