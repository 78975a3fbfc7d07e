"""Ids, content types, times, bodies and windows (pure functions)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from webapp.ingest.accept import (
    IngestError,
    delivery_id,
    event_ids,
    is_json_content_type,
    prepare,
    read_body,
    uuid7,
    uuid7s,
)
from webapp.ingest.validation import ValidEvent, parse_timestamp
from webapp.models import iso
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


moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=-9, minutes=-30)),
                                                  timezone(timedelta(hours=14))]))


@given(moments)
def test_iso_writes_utc_milliseconds_with_a_four_digit_year(moment):
    written = iso(moment)
    utc = moment.astimezone(UTC)
    assert len(written) == 24 and written.endswith("Z")
    assert parse_timestamp(written) == utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if utc.year >= 1000:  # as the reference writes it
        assert written == (utc.strftime("%Y-%m-%dT%H:%M:%S.")
                           + f"{utc.microsecond // 1000:03d}Z")


def test_iso_pads_early_years():
    # the year in one digit would be read back by PostgreSQL as 2005
    assert iso(datetime(5, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "0005-01-02T03:04:05.678Z"


def body_environ(body: bytes, length: str | None, **extra) -> dict:
    environ = {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, **extra}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    return environ


def werkzeug_read(environ: dict, limit: int) -> bytes:
    """read_body as it was written before its direct read: werkzeug's limited stream."""
    raw = get_input_stream(environ, max_content_length=limit + 1).read()
    if len(raw) > limit:
        raise RequestEntityTooLarge()
    return raw


@given(body=st.binary(max_size=64), extra=st.binary(max_size=8),
       length=st.one_of(st.none(), st.integers(0, 80).map(str),
                        st.sampled_from(["", " 5", "+5", "-1", "5x", "\u0665", "1e2"])),
       chunked=st.booleans(), limit=st.integers(0, 64))
def test_read_body_reads_as_werkzeug_would(body, extra, length, chunked, limit):
    """The direct read of a plain Content-Length gives what werkzeug's stream gives (the
    server's stream stops at that length: here, a stream of exactly the body)."""
    if length is not None and length.isascii() and length.isdigit():
        body = (body + extra)[:int(length)]
    headers = {"HTTP_TRANSFER_ENCODING": "chunked"} if chunked else {}
    outcomes = []
    for read in (read_body, werkzeug_read):
        try:
            outcomes.append(read(body_environ(body, length, **headers), limit))
        except RequestEntityTooLarge:
            outcomes.append("413")
    assert outcomes[0] == outcomes[1]


def test_read_body_refuses_a_declared_length_past_the_limit_unread():
    stream = io.BytesIO(b"x" * 100)
    with pytest.raises(RequestEntityTooLarge):
        read_body({"wsgi.input": stream, "wsgi.input_terminated": True,
                   "CONTENT_LENGTH": "100"}, 99)
    assert stream.tell() == 0
    assert read_body(body_environ(b"x" * 99, "99"), 99) == b"x" * 99


def test_windows():
    hour = window_for("hour")
    assert hour.start(NOW) == datetime(2026, 5, 1, 11, 35, tzinfo=UTC)
    assert window_for(None).name == "hour"
    assert window_for("day").start(NOW) == datetime(2026, 4, 30, 13, 0, tzinfo=UTC)
    assert len(window_for("week").bucket_starts(NOW)) == 56
    with pytest.raises(UnknownFilter, match='"filter" must be one of'):
        window_for("month")
