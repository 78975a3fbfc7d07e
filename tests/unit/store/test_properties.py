"""What one commit adds to the property index: which keys and values, within its bounds."""

from __future__ import annotations

from collections import Counter
from random import Random

from webapp.store import properties
from webapp.store.properties import (
    KEYS_PER_COMMIT,
    KEYS_PER_EVENT,
    MAX_CHARS,
    SAMPLE_EVENTS,
    VALUES_PER_COMMIT,
    tally,
    value_text,
)


def events(*metadata: dict) -> list[dict]:
    return [{"id": str(n), "type": "t", "user": "u", "meta": m} for n, m in enumerate(metadata)]


def test_values_are_indexed_as_a_condition_compares_them():
    assert value_text("pro") == "pro"
    assert value_text(True) == "true" and value_text(False) == "false"
    assert value_text(42) == "42" and value_text(-7) == "-7"
    # no text to offer, or text that depends on how the sender wrote the number
    for value in (None, "", 1.5, 1e3, {"a": 1}, [1], "x" * (MAX_CHARS + 1)):
        assert value_text(value) is None
    assert value_text("x" * MAX_CHARS) == "x" * MAX_CHARS


def test_a_commit_counts_keys_and_values_by_event_most_frequent_first():
    found = tally(events({"plan": "pro", "n": 1}, {"plan": "free", "n": 1.5},
                         {"plan": "pro", "nested": {"a": 1}}, {}, {"plan": None}))
    assert found == [("plan", 4, [("pro", 2), ("free", 1)]),
                     ("n", 2, [("1", 1)]),
                     ("nested", 1, [])]


def test_keys_too_long_or_empty_are_left_out():
    long_key = "k" * (MAX_CHARS + 1)
    assert tally(events({long_key: "a", "": "b", "ok": "c"})) == [("ok", 1, [("c", 1)])]


def test_a_commit_updates_at_most_its_bounds():
    many_keys = {f"key{i}": f"value{i}" for i in range(KEYS_PER_EVENT + 10)}
    found = tally(events(many_keys))
    assert [key for key, _, _ in found] == [f"key{i}" for i in range(KEYS_PER_EVENT)]

    wide = events(*({f"k{e}_{i}": "v" for i in range(KEYS_PER_EVENT)} for e in range(5)))
    assert len(tally(wide)) == KEYS_PER_COMMIT

    frequent = [{"page": f"/p{i}"} for i in range(VALUES_PER_COMMIT + 3) for _ in range(i + 1)]
    assert len(frequent) <= SAMPLE_EVENTS
    (key, n, values), = tally(events(*frequent))
    assert (key, n) == ("page", len(frequent))
    # the most frequent of the commit's values, first
    assert values == [(f"/p{i}", i + 1) for i in range(VALUES_PER_COMMIT + 2, 2, -1)]


def test_a_large_commit_is_counted_from_a_sample_scaled_to_all_of_it():
    batch = events(*({"plan": "pro" if n % 4 else "free", "n": n} for n in range(1000)))
    taken, weight = properties.sample(batch, Random(1))
    assert len(taken) == SAMPLE_EVENTS and weight == 10
    plans = Counter(event["meta"]["plan"] for event in taken)
    (key, n, values), (other, _, numbers) = tally(batch, Random(1))
    assert (key, n) == ("plan", 1000) and other == "n"
    assert dict(values) == {"pro": plans["pro"] * weight, "free": plans["free"] * weight}
    assert 600 <= dict(values)["pro"] <= 900  # 750 expected: a sample, not a fixed stride
    assert len(numbers) == VALUES_PER_COMMIT  # each sampled value stands for 10 events
    assert all(count == weight for _, count in numbers)
    small = events({"a": "b"})
    assert properties.sample(small) == (small, 1.0)
