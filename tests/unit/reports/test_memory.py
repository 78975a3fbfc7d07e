"""The packed days a worker process keeps in memory: newest builds, least recently used out."""

from __future__ import annotations

import numpy as np

from webapp.reports.columns import Memory


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
