"""Every validation rule and its message (pure functions, no services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.ingest.validation import (
    SDK,
    accepted_as_is,
    checked_event,
    parse_timestamp,
    validate_body,
    validate_event,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
OK = {"eventType": "page_view", "userId": "123"}


def problems(item):
    event, errors = validate_event(item, [], NOW)
    assert (event is None) == bool(errors)
    return [(e["path"], e["message"], e["type"]) for e in errors]


def test_minimal_and_full_events_pass():
    assert problems(OK) == []
    full = dict(OK, timestamp="2024-01-01T12:00:00Z", metadata={"page": "home"}, id="evt-1")
    event, errors = validate_event(full, [], NOW)
    assert errors == [] and event.client_id == "evt-1"
    assert event.timestamp == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert event.metadata == {"page": "home"}


@pytest.mark.parametrize("item,expected", [
    ({"userId": "1"}, [(["eventType"], '"eventType" is required', "any.required")]),
    ({"eventType": "a"}, [(["userId"], '"userId" is required', "any.required")]),
    (dict(OK, eventType=5), [(["eventType"], '"eventType" must be a string', "string.base")]),
    (dict(OK, eventType=""), [(["eventType"], '"eventType" is not allowed to be empty',
                               "string.empty")]),
    (dict(OK, eventType="x" * 65), [(["eventType"], '"eventType" length must be less than or '
                                     'equal to 64 characters long', "string.max")]),
    (dict(OK, eventType="page view"), [(["eventType"], '"eventType" may contain only letters, '
                                        'digits and _ . : -', "string.pattern.base")]),
    (dict(OK, userId=123), [(["userId"], '"userId" must be a string', "string.base")]),
    (dict(OK, userId=""), [(["userId"], '"userId" is not allowed to be empty', "string.empty")]),
    (dict(OK, userId="u" * 129), [(["userId"], '"userId" length must be less than or equal to '
                                   '128 characters long', "string.max")]),
    (dict(OK, userId="a\x00b"), [(["userId"], '"userId" must not contain control characters or '
                                  'unpaired surrogates', "string.invalid")]),
    (dict(OK, id="a\x1bb"), [(["id"], '"id" must not contain control characters or '
                             'unpaired surrogates', "string.invalid")]),
    (dict(OK, timestamp="2024-01-01"), [(["timestamp"], '"timestamp" must be in ISO 8601 date '
                                         'format with a date and a time', "date.format")]),
    (dict(OK, timestamp="yesterday"), [(["timestamp"], '"timestamp" must be in ISO 8601 date '
                                        'format with a date and a time', "date.format")]),
    (dict(OK, timestamp=1714564800), [(["timestamp"], '"timestamp" must be in ISO 8601 date '
                                       'format with a date and a time', "date.format")]),
    (dict(OK, timestamp="2026-05-01T12:05:01Z"), [(["timestamp"], '"timestamp" must not be more '
                                                   'than 5 minutes in the future', "date.max")]),
    (dict(OK, metadata=[1]), [(["metadata"], '"metadata" must be of type object',
                               "object.base")]),
    (dict(OK, metadata=None), [(["metadata"], '"metadata" must be of type object',
                                "object.base")]),
    (dict(OK, metadata={"a": "x" * 16384}), [(["metadata"], '"metadata" must be at most 16384 '
                                              'bytes as JSON', "object.size")]),
    (dict(OK, metadata={"a": "\x00"}), [(["metadata"], '"metadata" must not contain NUL '
                                         'characters', "string.invalid")]),
    (dict(OK, id=""), [(["id"], '"id" is not allowed to be empty', "string.empty")]),
    (dict(OK, id=7), [(["id"], '"id" must be a string', "string.base")]),
    (dict(OK, id="i" * 101), [(["id"], '"id" length must be less than or equal to 100 '
                               'characters long', "string.max")]),
    (dict(OK, extra=1), [(["extra"], '"extra" is not allowed', "object.unknown")]),
    ("text", [([], '"value" must be of type object', "object.base")]),
])
def test_each_rule_has_its_message(item, expected):
    assert problems(item) == expected


def test_every_problem_of_an_event_is_listed():
    found = problems({"eventType": "no spaces", "timestamp": "soon", "metadata": 1, "x": 1})
    assert [p[2] for p in found] == ["any.required", "string.pattern.base", "date.format",
                                     "object.base", "object.unknown"]


def test_limits_are_inclusive():
    assert problems(dict(OK, eventType="e" * 64, userId="u" * 128, id="i" * 100,
                         timestamp=(NOW + timedelta(minutes=5)).isoformat())) == []
    assert problems(dict(OK, eventType="a.b:c-d_E9")) == []


def test_timestamps():
    assert parse_timestamp("2024-01-01T12:00:00Z") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2024-01-01T12:00:00") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2024-01-01T14:00:00+02:00") == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2024-01-01 12:00:00.123456Z").microsecond == 123456
    assert parse_timestamp("2024-13-01T12:00:00Z") is None
    assert parse_timestamp("2024-01-01") is None
    assert parse_timestamp("0001-01-01T00:00:00+01:00") is None  # before year 1 in UTC
    assert parse_timestamp("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)


def test_arrays_report_every_bad_index():
    body = [OK, {"eventType": "a"}, OK, 5]
    events, errors, invalid = validate_body(body, NOW)
    assert [e["path"] for e in errors] == [[1, "userId"], [3]]
    assert errors[0]["message"] == '"[1].userId" is required'
    assert invalid == 2 and len(events) == 2


@pytest.mark.parametrize("body,kind", [([], "array.min"), ([OK] * 1001, "array.max")])
def test_array_sizes(body, kind):
    events, errors, _ = validate_body(body, NOW)
    assert events == [] and [e["type"] for e in errors] == [kind]


def test_a_thousand_events_pass():
    events, errors, invalid = validate_body([OK] * 1000, NOW)
    assert len(events) == 1000 and errors == [] and invalid == 0


INTEGERS = st.integers(-2**63, 2**64 - 1)  # orjson parses larger ones as floats
FIELD_VALUES = st.one_of(
    st.none(), st.booleans(), INTEGERS, st.floats(allow_nan=False),
    st.sampled_from(["", "page_view", "a b", "x" * 64, "x" * 65, "u" * 128, "u" * 129,
                     "a\x00b", "\ud800", "é", "2024-01-01T12:00:00Z", "2024-01-01",
                     "2026-05-01T12:05:01Z", "2026-05-01 12:04:00+00:00", "x" * 100, "x" * 101]),
    st.text(max_size=8),
    st.dictionaries(st.text(max_size=3), st.one_of(INTEGERS, st.text(max_size=4)),
                    max_size=3),
    st.just({"a": "x" * 16384}), st.just({"a": "\x00"}), st.lists(INTEGERS, max_size=2),
)




def often(*values):
    """One of `values` (valid ones and those just past a limit) three times in four, else any."""
    return st.integers(0, 3).flatmap(lambda k: st.sampled_from(values) if k else FIELD_VALUES)


EVENTS = st.fixed_dictionaries(  # mostly valid events, now and then a field off
    {"eventType": often("page_view", "a:b.c-d_1", "e" * 64, "e" * 65),
     "userId": often("u-1", "é", "u" * 128, "u" * 129)},
    optional={"timestamp": often("2024-01-01T12:00:00Z", "2026-05-01 12:04:00+00:00",
                                 "2026-05-01T12:05:01Z"),
              "metadata": often({}, {"page": "/"}, {"a": "x" * 16384}, {"a": "\x00"}),
              "id": often("e-1", "i" * 100, "i" * 101, None),
              "extra": FIELD_VALUES})


@settings(max_examples=500, deadline=None)
@given(EVENTS)
def test_the_quick_check_accepts_exactly_what_the_full_check_accepts(item):
    event, errors = checked_event(item, [], NOW)
    assert accepted_as_is(item, NOW) == event
    assert (event is None) == bool(errors)


SDK_EVENTS = st.fixed_dictionaries(  # the adapters' names: spaces, $, any script, up to 200
    {"eventType": often("Order Completed", "$pageview", "Ça marche", "e" * 200, "e" * 201,
                        "tab\there", "\ud800"),
     "userId": often("u-1", "u" * 129)},
    optional={"metadata": often({"a": "x" * 20000}, {"a": "x" * 33000}),
              "id": often("e-1", "i" * 101)})


@settings(max_examples=300, deadline=None)
@given(SDK_EVENTS)
def test_under_the_adapters_rules_too_the_quick_check_agrees_with_the_full_check(item):
    event, errors = checked_event(item, [], NOW, SDK)
    assert accepted_as_is(item, NOW, SDK) == event
    assert (event is None) == bool(errors)


def test_the_adapters_rules_widen_names_and_metadata_but_not_webhook():
    item = {"eventType": "Order Completed", "userId": "u", "metadata": {"a": "x" * 20000}}
    assert validate_event(item, [], NOW, SDK)[1] == []
    assert [e["type"] for e in validate_event(item, [], NOW)[1]] == ["string.pattern.base",
                                                                     "object.size"]
