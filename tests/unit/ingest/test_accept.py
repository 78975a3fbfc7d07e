"""Ids, content types and windows (pure functions)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from webapp.ingest.accept import (
    IngestError,
    delivery_id,
    event_ids,
    is_json_content_type,
    prepare,
    uuid7,
    uuid7s,
)
from webapp.ingest.validation import ValidEvent
from webapp.reads.windows import UnknownFilter, window_for

NOW = datetime(2026, 5, 1, 12, 34, 56, 789000, tzinfo=UTC)


def test_uuid7_is_version_7_and_time_ordered():
    first, later = uuid7(1_000), uuid7(2_000)
    assert uuid.UUID(first).version == 7 and uuid.UUID(first).variant == uuid.RFC_4122
    assert first < later
    assert len({uuid7(5) for _ in range(1000)}) == 1000


def test_uuid7s_gives_distinct_version_7_uuids_of_one_millisecond():
    ids = uuid7s(1000, 1_714_564_800_123)
    parsed = [uuid.UUID(value) for value in ids]
    assert len(set(ids)) == 1000 and [str(u) for u in parsed] == ids
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert {u.int >> 80 for u in parsed} == {1_714_564_800_123}
    assert {value[19] for value in ids} == set("89ab")  # every variant digit occurs


def test_ids_prefer_client_then_delivery_then_new():
    events = [ValidEvent("a", "u", None, {}, "client-1"), ValidEvent("a", "u", None, {}, None)]
    ids = event_ids(events, "delivery:d", 0)
    assert ids == ["client-1", "delivery:d#1"]
    assert event_ids(events[1:], "delivery:d", 0) == ["delivery:d"]
    generated = event_ids(events[1:], None, 0)[0]
    assert uuid.UUID(generated).version == 7


def test_long_delivery_ids_are_hashed_to_fit():
    assert delivery_id("short") == "delivery:short"
    long_id = delivery_id("k" * 500)
    assert long_id.startswith("delivery:sha256:") and len(long_id) <= 72
    assert len(event_ids([ValidEvent("a", "u", None, {}, None)] * 1000, long_id, 0)[-1]) <= 100


@pytest.mark.parametrize("mimetype,ok", [("application/json", True),
                                         ("application/cloudevents+json", True),
                                         ("text/plain", False), ("", False),
                                         ("application/x-www-form-urlencoded", False)])
def test_json_content_types(mimetype, ok):
    assert is_json_content_type(mimetype) is ok


def test_prepare_fills_timestamp_and_received_time():
    accepted = prepare(b'{"eventType":"a","userId":"u"}', NOW)
    (item,) = accepted.payload
    assert item["ts"] == item["rcv"] == "2026-05-01T12:34:56.789Z"
    assert accepted.single and accepted.event_ids == [item["id"]]


def test_prepare_refuses_malformed_json():
    with pytest.raises(IngestError) as caught:
        prepare(b'{"eventType":', NOW)
    assert caught.value.status == 400 and caught.value.message.startswith("Malformed JSON")


def test_windows():
    hour = window_for("hour")
    assert hour.start(NOW) == datetime(2026, 5, 1, 11, 35, tzinfo=UTC)
    assert window_for(None).name == "hour"
    assert window_for("day").start(NOW) == datetime(2026, 4, 30, 13, 0, tzinfo=UTC)
    assert len(window_for("week").bucket_starts(NOW)) == 56
    with pytest.raises(UnknownFilter, match='"filter" must be one of'):
        window_for("month")
