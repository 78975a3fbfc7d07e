"""PostHog capture bodies translated into events (pure functions, no services)."""

from __future__ import annotations

import base64
import gzip
import zlib
from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson
import pytest

from webapp.ingest.accept import IngestError
from webapp.ingest.protocols import posthog
from webapp.ingest.protocols.base import prepare

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = "pb_live_secret"
EVENT = {"event": "$pageview", "distinct_id": "u1", "uuid": "0190-a", "timestamp":
         "2026-05-01T11:00:00Z", "properties": {"$current_url": "/", "$lib": "posthog-python"}}


def stored(body, key=KEY):
    return prepare(posthog.translate(body, NOW, key), NOW).payload


def refused(body):
    with pytest.raises(IngestError) as caught:
        prepare(posthog.translate(body, NOW, KEY), NOW)
    assert caught.value.status == 400
    return caught.value


def test_a_batch_keeps_names_users_uuids_and_properties():
    body = {"api_key": KEY, "batch": [EVENT, dict(EVENT, event="signed up", uuid="0190-b",
                                                  distinct_id=7)]}
    first, second = stored(body)
    assert (first["type"], first["user"], first["id"]) == ("$pageview", "u1", "0190-a")
    assert first["meta"] == EVENT["properties"] and first["ts"] == "2026-05-01T11:00:00.000Z"
    assert (second["type"], second["user"], second["id"]) == ("signed up", "7", "0190-b")


def test_one_event_an_array_or_a_batch():
    assert len(stored(dict(EVENT, api_key=KEY))) == 1
    assert len(stored([EVENT, EVENT | {"uuid": "c"}])) == 2


def test_the_key_is_found_in_the_body_the_first_event_or_its_properties_and_not_stored():
    assert posthog.api_key({"api_key": KEY, "batch": []}) == KEY
    assert posthog.api_key({"token": KEY, "event": "x"}) == KEY
    assert posthog.api_key([{"event": "x", "properties": {"token": KEY}}]) == KEY
    assert posthog.api_key({"batch": [{"event": "x", "api_key": KEY}]}) == KEY
    assert posthog.api_key({"event": "x"}) is None and posthog.api_key("x") is None
    [row] = stored([{"event": "x", "distinct_id": "u", "properties": {"token": KEY, "a": 1}}])
    assert row["meta"] == {"a": 1}
    [row] = stored([{"event": "x", "distinct_id": "u", "properties": {"token": "mine"}}])
    assert row["meta"] == {"token": "mine"}  # not the key: an ordinary property


def test_distinct_id_may_sit_in_the_properties_and_set_goes_to_the_metadata():
    [row] = stored({"event": "$identify", "properties": {"distinct_id": "u9"},
                    "$set": {"email": "a@b.c"}, "$set_once": {"first": "x"}})
    assert row["user"] == "u9"
    assert row["meta"] == {"distinct_id": "u9", "$set": {"email": "a@b.c"},
                           "$set_once": {"first": "x"}}


def test_the_time_is_moved_by_the_senders_clock_error_unless_told_not_to():
    body = {"sent_at": "2026-05-01T13:00:00Z", "batch": [
        dict(EVENT, timestamp="2026-05-01T12:59:30Z"),
        dict(EVENT, uuid="b", timestamp="2026-05-01T11:00:00Z",
             properties={"$ignore_sent_at": True})]}
    first, second = stored(body)
    assert first["ts"] == "2026-05-01T11:59:30.000Z"
    assert second["ts"] == "2026-05-01T11:00:00.000Z"
    [row] = stored({"event": "x", "distinct_id": "u", "offset": 1500})
    assert row["ts"] == "2026-05-01T11:59:58.500Z"


def test_every_problem_is_listed_in_the_senders_terms():
    exc = refused({"batch": [EVENT, {"properties": {}}, 3,
                             {"event": "x", "distinct_id": "u", "properties": "no"},
                             {"event": "", "distinct_id": "u" * 129}]})
    assert [(e["path"], e["message"]) for e in exc.errors] == [
        (["batch", 1, "distinct_id"], '"batch[1].distinct_id" is required'),
        (["batch", 1, "event"], '"batch[1].event" is required'),
        (["batch", 2], '"batch[2]" must be of type object'),
        (["batch", 3, "properties"], '"batch[3].properties" must be of type object'),
        (["batch", 4, "event"], '"batch[4].event" is not allowed to be empty'),
        (["batch", 4, "distinct_id"], '"batch[4].distinct_id" length must be less than or '
                                      'equal to 128 characters long')]
    assert exc.invalid == 4
    [error] = refused({"event": "x", "properties": {"distinct_id": ["u"]}}).errors
    assert error["path"] == ["properties", "distinct_id"]
    assert refused("x").errors[0]["message"] == (
        '"value" must be an event, an array of events or a batch')


def gz(body) -> bytes:
    return gzip.compress(orjson.dumps(body))


@pytest.mark.parametrize("raw,encoding,form,compression", [
    (orjson.dumps(EVENT), "", False, None),
    (gz(EVENT), "gzip", False, None),
    (gz(EVENT), "", False, "gzip-js"),
    (gz(EVENT), "", False, None),  # recognised by its first bytes
    (urlencode({"data": base64.b64encode(orjson.dumps(EVENT))}).encode(), "", True, None),
    (urlencode({"data": orjson.dumps(EVENT)}).encode(), "", True, None),
    (urlencode({"data": base64.b64encode(gz(EVENT)), "compression": "gzip-js"}).encode(),
     "", True, None),
])
def test_bodies_are_read_however_the_sdk_packed_them(raw, encoding, form, compression):
    assert posthog.read(raw, encoding, form, compression) == EVENT


@pytest.mark.parametrize("raw,form,compression,status,message", [
    (b"{}", False, "lz64", 400, "Unsupported compression 'lz64'"),
    (b"\x1f\x8bnot gzip", False, None, 400, "Body is not valid gzip"),
    (gzip.compress(b"{}")[:-6], False, None, 400, "cut short"),
    (gzip.compress(b" " * (1024 * 1024 + 1)), False, None, 413, "at most 1024 KB"),
    (b"data=%%%", True, None, 400, "neither JSON nor base64"),
    (b"{", False, None, 400, "Malformed JSON"),
])
def test_bodies_that_cannot_be_read(raw, form, compression, status, message):
    with pytest.raises(IngestError) as caught:
        posthog.read(raw, "", form, compression)
    assert caught.value.status == status and message in caught.value.message


def test_refusals_carry_the_detail_the_sdk_reads():
    status, body = posthog.refusal(401, {"success": False, "message": "Invalid API key"})
    assert status == 401 and body["detail"] == "Invalid API key"
    assert body["type"] == "authentication_error" and body["success"] is False


def test_times_out_of_range_are_refused_not_raised():
    exc = refused({"event": "x", "distinct_id": "u", "offset": 10**15})
    assert [e["path"] for e in exc.errors] == [["offset"]]
    exc = refused({"event": "x", "distinct_id": "u", "offset": -3600_000})  # an hour ahead
    assert [(e["path"], e["type"]) for e in exc.errors] == [(["offset"], "number.range")]
    low, high = posthog.OFFSET_RANGE  # the bounds the OpenAPI document states
    for outside in (low - 1, high + 1):
        exc = refused({"event": "x", "distinct_id": "u", "offset": outside})
        assert [(e["path"], e["type"]) for e in exc.errors] == [(["offset"], "number.range")]
    for inside in (low, high):
        [row] = stored({"event": "x", "distinct_id": "u", "offset": inside})
    exc = refused({"event": "x", "distinct_id": "u", "timestamp": "9999-12-31T23:59:59Z",
                   "sent_at": "0001-01-01T00:00:00Z"})
    assert [e["type"] for e in exc.errors] == ["date.max"]


def test_capture_v1_batches_become_batch_bodies():
    body = {"created_at": "2026-05-01T10:00:00Z", "batch": [
        {"event": "$pageview", "uuid": "v1-a", "distinct_id": "u", "session_id": "s1",
         "timestamp": "2026-05-01T12:59:00Z", "options": {"process_person_profile": False},
         "properties": {"$current_url": "/"}},
        {"event": "x", "uuid": "v1-b", "distinct_id": "u", "timestamp": "2026-05-01T11:00:00Z",
         "options": {"disable_skew_correction": True}, "properties": {}}]}
    v0 = posthog.from_v1(body, "2026-05-01T13:00:00Z", "posthog-python/7.91.1")
    first, second = stored(v0)
    assert first["meta"] == {"$current_url": "/", "$session_id": "s1", "$lib": "posthog-python",
                             "$lib_version": "7.91.1"}
    assert first["ts"] == "2026-05-01T11:59:00.000Z"  # an hour fast, by the request's clock
    assert second["ts"] == "2026-05-01T11:00:00.000Z"
    assert second["meta"]["$ignore_sent_at"] is True
    assert posthog.v1_results(v0) == {"results": {"v1-a": {"result": "ok"},
                                                  "v1-b": {"result": "ok"}}}
    assert posthog.from_v1([1], None, "") == [1]


def test_deflate_is_read_and_unknown_encodings_are_415():
    assert posthog.read(zlib.compress(orjson.dumps(EVENT)), "deflate", False, None) == EVENT
    with pytest.raises(IngestError) as caught:
        posthog.read(b"{}", "zstd", False, None)
    assert caught.value.status == 415 and "zstd" in caught.value.message


def test_a_batch_that_is_not_an_array_is_refused_not_taken_for_one_event():
    translation = posthog.translate({"event": "x", "distinct_id": "d", "batch": {}},
                                    datetime.now(UTC))
    assert translation.problems and not translation.events
    assert translation.problems[0][1]["path"] == ["batch"]
