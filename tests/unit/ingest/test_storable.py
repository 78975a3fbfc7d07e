"""What a column can hold (pure functions)."""

from __future__ import annotations

from datetime import datetime

import pytest

from webapp.ingest.storable import delivery_problem, depth, in_utc_range, storable, wide_integer


@pytest.mark.parametrize("raw,found", [
    (b'{"n": 9223372036854775807, "m": -9223372036854775808}', None),
    (b'{"n": 18446744073709551615}', None),
    (b'{"n": 18446744073709551616}', "18446744073709551616"),
    (b'{"n": -9223372036854775809}', "-9223372036854775809"),
    (b'{"s": "123456789012345678901234567890", "f": 1.2345678901234567890123}', None),
    (b'[1, {"deep": [123456789012345678901234567890]}]', "123456789012345678901234567890"),
])
def test_wide_integer_finds_integers_outside_64_bits_only(raw, found):
    assert wide_integer(raw) == found


@pytest.mark.parametrize("text,ok", [
    ("0001-01-01T00:00:00+00:00", True), ("0001-01-01T00:00:00-05:00", True),
    ("0001-01-01T00:59:00+01:00", False), ("9999-12-31T23:59:59+01:00", True),
    ("9999-12-31T23:00:00-01:00", False), ("2026-06-01T12:00:00+14:00", True),
])
def test_in_utc_range(text, ok):
    assert in_utc_range(datetime.fromisoformat(text)) is ok


def test_depth_counts_objects_and_arrays():
    assert depth({}) == 1 and depth({"a": 1}) == 1 and depth({"a": [{"b": []}]}) == 4
    value: dict = {}
    for _ in range(5000):  # no recursion: deeper than Python's stack would allow
        value = {"a": value}
    assert depth(value) == 5001


@pytest.mark.parametrize("value,ok", [("plain", True), ("Zoë 東京 👩‍💻", True), ("a\x00", False),
                                      ("a\tb", False), ("\x7f", False), ("\x85", False),
                                      ("\ud800", False)])
def test_storable(value, ok):
    assert storable(value) is ok


@pytest.mark.parametrize("value,ok", [("msg_2xQ7", True), ("a b", True), ("a\x00b", False),
                                      ("caf\xe9", False), ("\t", False)])
def test_delivery_problem(value, ok):
    assert (delivery_problem("webhook-id", value) is None) is ok
