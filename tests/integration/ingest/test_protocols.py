"""Segment's and PostHog's endpoints over HTTP: keys, answers, refusals, limits, metrics, and
the events stored by the real worker."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import urlencode

import pytest

from tests.helpers import INGEST_KEY, READ_HEADERS, settle, sql_scalar, wait_stored
from webapp import create_app

pytestmark = pytest.mark.usefixtures("worker")
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{INGEST_KEY}:".encode()).decode()}


def rows(app):
    return sql_scalar(app, "SELECT coalesce(json_agg(row_to_json(e) ORDER BY e.event_id), "
                           "'[]') FROM event e")


def post(client, path, body, headers=None, **kwargs):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(path, data=data, headers=headers or {},
                       content_type=kwargs.pop("content_type", "application/json"), **kwargs)


def test_segment_track_with_basic_auth_is_answered_as_segment_does_and_stored(client, app,
                                                                               project):
    response = post(client, "/v1/track", {
        "userId": "u1", "event": "Order Completed", "properties": {"revenue": 9.5},
        "messageId": "seg-1", "timestamp": "2024-01-01T12:00:00Z",
        "sentAt": "2024-01-01T12:00:00Z"}, BASIC)  # a device whose clock is years behind
    assert response.status_code == 200 and response.get_json() == {"success": True}
    wait_stored(app, 1)
    [row] = rows(app)
    assert (row["event_id"], row["event_type"], row["user_id"]) == ("seg-1", "Order Completed",
                                                                    "u1")
    assert row["metadata"] == {"revenue": 9.5}
    # sent and stamped at the same moment: the event is stored at the moment received
    assert row["timestamp"] == row["received_at"]
    listed = client.get("/events?filter=day&eventType=Order%20Completed", headers=READ_HEADERS)
    assert [e["id"] for e in listed.get_json()["data"]["events"]] == ["seg-1"]


def test_segment_write_key_in_the_body_and_gzip(client, app, project):
    body = {"writeKey": INGEST_KEY, "batch": [
        {"type": "identify", "userId": "u2", "traits": {"plan": "pro"}, "messageId": "a"},
        {"type": "page", "anonymousId": "anon", "name": "Home", "messageId": "b"}]}
    response = post(client, "/v1/batch", gzip.compress(json.dumps(body).encode()),
                    {"Content-Encoding": "gzip"})
    assert response.status_code == 200
    wait_stored(app, 2)
    assert [(r["event_type"], r["user_id"], r["metadata"]) for r in rows(app)] == [
        ("identify", "u2", {"plan": "pro"}), ("page", "anon", {"name": "Home"})]


@pytest.mark.parametrize("headers,body,message", [
    ({}, {"userId": "u", "event": "x"}, "Missing write key"),
    ({"Authorization": "Basic " + base64.b64encode(b"wrong:").decode()},
     {"userId": "u", "event": "x"}, "Invalid API key"),
    ({}, {"userId": "u", "event": "x", "writeKey": "wrong"}, "Invalid API key"),
])
def test_segment_without_a_good_key_is_401_with_the_code_its_sdk_reads(client, project,
                                                                       headers, body, message):
    response = post(client, "/v1/track", body, headers)
    assert response.status_code == 401
    answer = response.get_json()
    assert answer["code"] == "unauthorized" and answer["message"].startswith(message)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Pulseboard"'


def test_segment_bad_batch_lists_every_problem_stores_nothing_and_is_counted(client, app,
                                                                            project):
    response = post(client, "/v1/batch", {"batch": [
        {"type": "track", "userId": "u", "event": "fine", "messageId": "ok"},
        {"type": "track", "userId": "u"},
        {"type": "track", "event": "x", "timestamp": "soon"}]}, BASIC)
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["code"] == "invalid_request" and answer["message"] == "Validation failed"
    assert [e["message"] for e in answer["errors"]] == [
        '"batch[1].event" is required', '"batch[2].userId" or "anonymousId" is required',
        '"batch[2].timestamp" must be in ISO 8601 date format with a date and a time']
    assert settle(app, 0.5) == 0
    text = client.get("/metrics").get_data(as_text=True)
    assert 'pulseboard_events_rejected_total{reason="validation"} 2' in text


def test_segment_size_limits_answer_400_and_count_as_too_large(client, app, project):
    big = {"userId": "u", "event": "x", "properties": {"a": "x" * 33000}}
    assert post(client, "/v1/track", big, BASIC).status_code == 400
    batch = {"batch": [dict(big, type="track")]}
    response = post(client, "/v1/batch", batch, BASIC)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["message"] == '"batch[0]" must be at most 32 KB as JSON'
    huge = {"batch": [{"type": "track", "userId": "u", "event": "x",
                       "properties": {"a": "x" * 30000}}] * 40}  # 1.2 MB: past Flask's limit
    response = post(client, "/v1/batch", huge, BASIC)
    assert response.status_code == 400 and "500 KB" in response.get_json()["message"]
    text = client.get("/metrics").get_data(as_text=True)
    assert 'pulseboard_events_rejected_total{reason="too_large"} 2' in text
    assert settle(app, 0.5) == 0


def test_posthog_batch_gzip_and_single_event_endpoints(client, app, project):
    batch = {"api_key": INGEST_KEY, "batch": [
        {"event": "$pageview", "distinct_id": "d1", "uuid": "ph-1",
         "properties": {"$current_url": "/a"}},
        {"event": "signed up", "distinct_id": "d2", "uuid": "ph-2"}]}
    response = post(client, "/batch/", gzip.compress(json.dumps(batch).encode()),
                    {"Content-Encoding": "gzip"})
    assert response.status_code == 200 and response.get_json() == {"status": 1}
    single = {"api_key": INGEST_KEY, "event": "clicked", "distinct_id": "d3", "uuid": "ph-3"}
    assert post(client, "/capture/", single).status_code == 200
    browser = [{"event": "$autocapture", "uuid": "ph-4",
                "properties": {"token": INGEST_KEY, "distinct_id": "d4"}}]
    raw = gzip.compress(json.dumps(browser).encode())
    assert post(client, "/i/v0/e/?compression=gzip-js", raw,
                content_type="text/plain").status_code == 200
    form = urlencode({"data": base64.b64encode(json.dumps(
        {"api_key": INGEST_KEY, "event": "old", "distinct_id": "d5", "uuid": "ph-5"}).encode())})
    assert post(client, "/e", form.encode(),
                content_type="application/x-www-form-urlencoded").status_code == 200
    wait_stored(app, 5)
    assert [(r["event_id"], r["event_type"], r["user_id"], r["metadata"]) for r in rows(app)] == [
        ("ph-1", "$pageview", "d1", {"$current_url": "/a"}), ("ph-2", "signed up", "d2", {}),
        ("ph-3", "clicked", "d3", {}), ("ph-4", "$autocapture", "d4", {"distinct_id": "d4"}),
        ("ph-5", "old", "d5", {})]
    text = client.get("/metrics").get_data(as_text=True)
    assert "pulseboard_events_accepted_total 5" in text
    assert 'pulseboard_protocol_events_accepted_total{protocol="posthog"} 5' in text
    assert 'pulseboard_protocol_events_accepted_total{protocol="segment"} 0' in text


def members(*parts: bytes) -> bytes:
    """A multi-member gzip body: each part gzipped on its own, one after another."""
    return b"".join(gzip.compress(part) for part in parts)


SEGMENT_EVENTS = [{"type": "track", "userId": f"u{n}", "event": "x", "messageId": f"m{n}"}
                  for n in range(4)]
POSTHOG_EVENTS = [{"event": "x", "distinct_id": f"d{n}", "uuid": f"p{n}"} for n in range(4)]


@pytest.mark.parametrize("path,query,body", [
    ("/v1/batch", "", {"writeKey": INGEST_KEY, "batch": SEGMENT_EVENTS}),
    ("/batch/", "", {"api_key": INGEST_KEY, "batch": POSTHOG_EVENTS}),
    ("/i/v0/e/", "?compression=gzip-js", [{**e, "properties": {"token": INGEST_KEY}}
                                          for e in POSTHOG_EVENTS]),
])
def test_every_member_of_a_gzip_body_is_read(client, app, project, path, query, body):
    raw = json.dumps(body).encode()
    half = len(raw) // 2
    headers = {"Content-Encoding": "gzip"} if not query else {}
    # the document split across two members (and padded with zeros, as gzip allows)
    answer = post(client, path + query, members(raw[:half], raw[half:]) + b"\0" * 8, headers)
    assert answer.status_code == 200, answer.get_json()
    assert wait_stored(app, 4) == 4
    # two whole documents, one a member: not one JSON body, and not only the first one's events
    again = json.dumps(body).replace('"u', '"v').replace('"m', '"n').replace('"p', '"q')
    answer = post(client, path + query, members(raw, again.encode()), headers)
    assert answer.status_code == 400 and settle(app, 0.5) == 4
    # something after the last member that is not gzip
    answer = post(client, path + query, members(raw) + b"trailing", headers)
    assert answer.status_code == 400 and "not valid gzip" in json.dumps(answer.get_json())
    assert settle(app, 0.5) == 4


def test_posthog_refusals_carry_the_detail_its_sdk_reads(client, app, project):
    response = post(client, "/batch/", {"api_key": "wrong", "batch": [{"event": "x"}]})
    assert response.status_code == 401
    assert response.get_json()["detail"] == "Invalid API key"
    response = post(client, "/batch/", {"batch": [{"event": "x", "distinct_id": "u"}]})
    assert response.status_code == 401 and response.get_json()["detail"].startswith("Missing")
    response = post(client, "/batch/", {"api_key": INGEST_KEY, "batch": [{"event": "x"}]})
    assert response.status_code == 400
    assert response.get_json()["detail"] == "Validation failed"
    assert response.get_json()["errors"][0]["path"] == ["batch", 0, "distinct_id"]
    assert post(client, "/capture/", b"{").status_code == 400
    assert settle(app, 0.5) == 0


def test_adapters_share_the_ingest_keys_rate_limit(services, project, app):
    limited = create_app({"DATABASE_URL": services.database_url,
                          "REDIS_URL": services.redis_url,
                          "WEBHOOK_RATE_LIMIT": "2 per minute"}, test=True)
    client = limited.test_client()
    answers = [post(client, "/v1/track", {"userId": "u", "event": "x"}, BASIC),
               post(client, "/capture/", {"api_key": INGEST_KEY, "event": "x",
                                          "distinct_id": "u"}),
               post(client, "/v1/track", {"userId": "u", "event": "x"}, BASIC),
               post(client, "/capture/", {"api_key": INGEST_KEY, "event": "x",
                                          "distinct_id": "u"})]
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    assert answers[2].get_json()["code"] == "rate_limited"
    assert answers[3].get_json()["type"] == "throttled"
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers[2:])
