"""Segment's HTTP API bodies translated into events (pure functions, no services)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import orjson
import pytest

from webapp.ingest.accept import IngestError
from webapp.ingest.protocols import segment
from webapp.ingest.protocols.base import prepare

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def stored(body, call="batch"):
    """The payload rows a body becomes (what the worker is handed)."""
    return prepare(segment.translate(body, call, NOW), NOW).payload


def refused(body, call="batch"):
    with pytest.raises(IngestError) as caught:
        prepare(segment.translate(body, call, NOW), NOW)
    assert caught.value.status == 400
    return caught.value


def test_a_track_keeps_its_name_user_properties_and_message_id():
    [row] = stored({"userId": "u1", "event": "Order Completed", "messageId": "m-1",
                    "properties": {"revenue": 12.5}, "timestamp": "2026-05-01T11:00:00Z",
                    "context": {"ip": "1.2.3.4"}}, "track")
    assert row["type"] == "Order Completed" and row["user"] == "u1" and row["id"] == "m-1"
    assert row["meta"] == {"revenue": 12.5}
    assert row["ts"] == "2026-05-01T11:00:00.000Z" and row["rcv"] == "2026-05-01T12:00:00.000Z"


def test_anonymous_id_stands_in_for_a_missing_user_id_and_numbers_become_text():
    rows = stored({"batch": [
        {"type": "track", "event": "Viewed", "anonymousId": "anon-7"},
        {"type": "track", "event": "Viewed", "userId": None, "anonymousId": 42},
        {"type": "track", "event": "Viewed", "userId": "u", "anonymousId": "anon-8"}]})
    assert [row["user"] for row in rows] == ["anon-7", "42", "u"]


def test_the_other_calls_are_events_named_after_the_call():
    rows = stored({"batch": [
        {"type": "identify", "userId": "u", "traits": {"plan": "pro"}},
        {"type": "page", "userId": "u", "name": "Pricing", "category": "Docs",
         "properties": {"url": "/pricing"}},
        {"type": "screen", "userId": "u", "name": "Home"},
        {"type": "group", "userId": "u", "groupId": "g1", "traits": {"seats": 3}},
        {"type": "alias", "userId": "u", "previousId": "anon-1"}]})
    assert [(row["type"], row["meta"]) for row in rows] == [
        ("identify", {"plan": "pro"}),
        ("page", {"name": "Pricing", "category": "Docs", "url": "/pricing"}),
        ("screen", {"name": "Home"}),
        ("group", {"groupId": "g1", "seats": 3}),
        ("alias", {"previousId": "anon-1"})]


def test_the_time_is_moved_by_the_senders_clock_error():
    # The device's clock is an hour fast: it stamped the event 10 s before it sent the batch.
    [row] = stored({"sentAt": "2026-05-01T13:00:00Z", "batch": [
        {"type": "track", "event": "x", "userId": "u", "timestamp": "2026-05-01T12:59:50Z"}]})
    assert row["ts"] == "2026-05-01T11:59:50.000Z"
    [row] = stored({"batch": [{"type": "track", "event": "x", "userId": "u",
                               "originalTimestamp": "2026-05-01T11:00:00Z",
                               "sentAt": "2026-05-01T11:00:01Z"}]})
    assert row["ts"] == "2026-05-01T11:59:59.000Z"


def test_without_a_timestamp_the_event_is_stamped_when_received_and_gets_an_id():
    [row] = stored({"userId": "u", "event": "x"}, "track")
    assert row["ts"] == row["rcv"] and len(row["id"]) == 36


def test_every_problem_of_a_batch_is_listed_in_the_senders_terms():
    exc = refused({"batch": [
        {"type": "track", "userId": "u", "event": "fine"},
        {"type": "track", "properties": {}},
        {"type": "bogus", "userId": "u"},
        {"type": "track", "userId": "u", "event": "x", "properties": [1],
         "timestamp": "yesterday"},
        {"type": "group", "anonymousId": "a"},
        "nope",
        {"type": "track", "userId": "u", "event": "big", "properties": {"a": "x" * 33000}},
        {"type": "track", "userId": "u", "event": "bad\nname"}]})
    assert [(e["path"], e["message"]) for e in exc.errors] == [
        (["batch", 1, "userId"], '"batch[1].userId" or "anonymousId" is required'),
        (["batch", 1, "event"], '"batch[1].event" is required'),
        (["batch", 2, "type"], '"batch[2].type" must be one of [track, identify, page, '
                               'screen, group, alias]'),
        (["batch", 3, "timestamp"], '"batch[3].timestamp" must be in ISO 8601 date format '
                                    'with a date and a time'),
        (["batch", 3, "properties"], '"batch[3].properties" must be of type object'),
        (["batch", 4, "groupId"], '"batch[4].groupId" is required'),
        (["batch", 5], '"batch[5]" must be of type object'),
        (["batch", 6], '"batch[6]" must be at most 32 KB as JSON'),
        (["batch", 7, "event"], '"batch[7].event" must not contain control characters '
                                   'or unpaired surrogates')]
    assert exc.invalid == 7


@pytest.mark.parametrize("body,path,message", [
    ({}, ["batch"], '"batch" is required'),
    ({"batch": {}}, ["batch"], '"batch" must be an array'),
    ({"batch": []}, ["batch"], '"batch" must contain at least 1 items'),
    ([], [], '"value" must be of type object'),
])
def test_a_batch_must_be_a_list_of_messages(body, path, message):
    assert [(e["path"], e["message"]) for e in refused(body).errors] == [(path, message)]


def test_names_as_the_sdks_send_them_are_kept_up_to_200_characters():
    names = ["Order Completed", "$pageview", "Ça marche !", "x" * 200]
    rows = stored({"batch": [{"type": "track", "userId": "u", "event": n} for n in names]})
    assert [row["type"] for row in rows] == names
    [error] = refused({"userId": "u", "event": "x" * 201}, "track").errors
    assert error["message"] == '"event" length must be less than or equal to 200 characters long'


def test_write_key_from_basic_auth_or_the_body():
    assert segment.write_key({"writeKey": "body"}, "basic") == "basic"
    assert segment.write_key({"writeKey": "body"}, None) == "body"
    assert segment.write_key({"writeKey": 5}, None) is None
    assert segment.write_key([], "") is None


def test_size_limits_answer_400_as_segment_does():
    event = orjson.dumps({"userId": "u", "event": "x", "properties": {"a": "x" * 33000}})
    with pytest.raises(IngestError) as caught:
        segment.read(event, "track", gzipped=False)
    assert caught.value.status == 400 and caught.value.reason == "too_large"
    assert segment.read(event, "batch", gzipped=False)["event"] == "x"
    big = orjson.dumps({"batch": [{"p": "x" * 30000}] * 18})
    with pytest.raises(IngestError) as caught:
        segment.read(gzip.compress(big), "batch", gzipped=True)
    assert caught.value.status == 400 and "500 KB" in caught.value.message
    assert segment.read(gzip.compress(b'{"batch": []}'), "batch", gzipped=True) == {"batch": []}


def test_refusals_carry_the_code_and_message_the_sdk_reads():
    status, body = segment.refusal(413, {"success": False, "message": "too big"})
    assert status == 400 and body["code"] == "invalid_request" and "500 KB" in body["message"]
    assert segment.refusal(401, {"success": False, "message": "Invalid API key"}) == (
        401, {"success": False, "message": "Invalid API key", "code": "unauthorized"})
