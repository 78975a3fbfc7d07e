"""POST /webhook end to end: auth, content rules, validation, queue, worker, database."""

from __future__ import annotations

import json

import pytest

from tests.helpers import INGEST_HEADERS, settle, sql_scalar, stored, wait_stored
from webapp.ingest import journal

pytestmark = pytest.mark.usefixtures("worker")


def post(client, body, headers=INGEST_HEADERS, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/webhook", data=data, headers=headers, content_type=content_type)


EVENT = {"eventType": "page_view", "userId": "123", "timestamp": "2024-01-01T12:00:00Z",
         "metadata": {"page": "home"}}


def counted(app) -> int:
    return sql_scalar(app, "SELECT COALESCE(sum(count), 0) FROM event_rollup_minute")


def stored_once(app, expected: int) -> list[dict]:
    """The accepted events, each stored once and counted once in the rollups."""
    wait_stored(app, expected)
    assert settle(app, 0.5) == expected
    assert counted(app) == expected
    return sql_scalar(app, "SELECT json_agg(row_to_json(e) ORDER BY e.id) FROM event e")


def nothing_entered(app, redis) -> bool:
    """Nothing of a refused request reached the journal (every accepted batch is there until
    it is stored) or the database. A refusal is answered before anything is written, so this
    holds at once; the journal is read first, as a batch leaves it only after its commit."""
    journaled = redis.zcard(journal.DUE)
    return journaled == 0 and stored(app) == 0 and counted(app) == 0


def test_reference_example_is_accepted_and_stored(client, app, project):
    response = post(client, EVENT)
    assert response.status_code == 202
    body = response.get_json()
    assert body["success"] is True and body["message"] == "Event accepted"
    assert set(body["data"]) == {"eventId", "receivedAt"}
    wait_stored(app, 1)
    row = sql_scalar(app, "SELECT row_to_json(e) FROM event e")
    assert row["event_id"] == body["data"]["eventId"]
    assert row["event_type"] == "page_view" and row["user_id"] == "123"
    assert row["metadata"] == {"page": "home"}
    assert row["timestamp"].startswith("2024-01-01T12:00:00")


def test_bearer_key_and_array_body(client, app, project):
    events = [{"eventType": "signup", "userId": f"u{i}"} for i in range(3)]
    headers = {"Authorization": INGEST_HEADERS["X-API-Key"].join(["Bearer ", ""])}
    response = post(client, events, headers=headers)
    assert response.status_code == 202
    data = response.get_json()["data"]
    assert len(data["eventIds"]) == 3 and len(set(data["eventIds"])) == 3
    rows = stored_once(app, 3)
    assert sorted(row["event_id"] for row in rows) == sorted(data["eventIds"])
    assert sorted(row["user_id"] for row in rows) == ["u0", "u1", "u2"]


@pytest.mark.parametrize("headers,message", [
    ({}, "Missing API key"),
    ({"X-API-Key": "wrong"}, "Invalid API key"),
    ({"Authorization": "Bearer wrong"}, "Invalid API key"),
    ({"Authorization": "Basic abc"}, "Missing API key"),
])
def test_missing_or_wrong_key_is_401(client, app, redis, project, headers, message):
    response = post(client, EVENT, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"success": False, "message": response.get_json()["message"]}
    assert response.get_json()["message"].startswith(message)
    assert nothing_entered(app, redis)


def test_wrong_content_type_is_415(client, app, redis, project):
    response = post(client, json.dumps(EVENT), content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["success"] is False
    assert nothing_entered(app, redis)


def test_vendor_json_content_type_is_accepted(client, app, project):
    response = post(client, EVENT, content_type="application/vnd.acme+json; charset=utf-8")
    assert response.status_code == 202
    [row] = stored_once(app, 1)
    assert row["event_id"] == response.get_json()["data"]["eventId"]
    assert (row["event_type"], row["user_id"], row["metadata"]) == ("page_view", "123",
                                                                    {"page": "home"})


@pytest.mark.parametrize("raw", [b"{x", b"", b'{"eventType": "a",}', b"\xff\xfe", b"NaN",
                                 b'{"eventType":"a","userId":"\\ud800"}'])
def test_malformed_json_is_400(client, app, redis, project, raw):
    response = post(client, raw)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Malformed JSON")
    assert nothing_entered(app, redis)


def test_body_over_one_megabyte_is_413(client, app, redis, project):
    big = {"eventType": "a", "userId": "u", "metadata": {"blob": "x" * (1024 * 1024)}}
    response = post(client, big)
    assert response.status_code == 413
    assert response.get_json() == {"success": False,
                                   "message": "Request body too large: at most 1 MB"}
    assert nothing_entered(app, redis)


def test_validation_lists_every_problem_and_stores_nothing(client, app, project):
    batch = [
        {"eventType": "ok", "userId": "1"},
        {"eventType": "bad type!", "userId": 5},
        {"eventType": "ok", "userId": "2"},
        {"userId": "3", "extra": True, "timestamp": "yesterday"},
        "not an object",
    ]
    response = post(client, batch)
    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False and body["message"] == "Validation failed"
    found = {(tuple(e["path"]), e["type"]) for e in body["errors"]}
    assert found == {
        ((1, "eventType"), "string.pattern.base"),
        ((1, "userId"), "string.base"),
        ((3, "eventType"), "any.required"),
        ((3, "timestamp"), "date.format"),
        ((3, "extra"), "object.unknown"),
        ((4,), "object.base"),
    }
    assert settle(app, 1.0) == 0
    # the three bad events are counted as invalid
    assert wait_invalid(app, 3) == 3


def wait_invalid(app, expected):
    from tests.helpers import wait_until

    query = "SELECT COALESCE(sum(count), 0) FROM invalid_rollup_minute"
    wait_until(lambda: sql_scalar(app, query) >= expected, what="invalid count")
    return sql_scalar(app, query)


def test_same_event_id_twice_is_stored_once(client, app, project):
    event = dict(EVENT, id="order-42")
    first, second = post(client, event), post(client, event)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["data"]["eventId"] == second.get_json()["data"]["eventId"] == "order-42"
    post(client, [dict(EVENT, id="order-43"), dict(EVENT, id="order-43")])
    wait_stored(app, 2)
    assert settle(app, 1.0) == 2
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 2


@pytest.mark.parametrize("header", ["Idempotency-Key", "webhook-id"])
def test_delivery_header_makes_a_retry_store_nothing_twice(client, app, project, header):
    headers = dict(INGEST_HEADERS, **{header: "msg_2xQ7"})
    batch = [{"eventType": "a", "userId": "1"}, {"eventType": "b", "userId": "2"}]
    first, again = post(client, batch, headers=headers), post(client, batch, headers=headers)
    assert first.get_json()["data"]["eventIds"] == again.get_json()["data"]["eventIds"]
    wait_stored(app, 2)
    assert settle(app, 1.0) == 2


def test_arrays_over_a_thousand_events_are_refused(client, app, project):
    response = post(client, [{"eventType": "a", "userId": "1"}] * 1001)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["type"] == "array.max"
    assert stored(app) == 0


@pytest.mark.parametrize("header", ["Idempotency-Key", "webhook-id"])
def test_client_ids_and_delivery_ids_are_separate_namespaces(client, app, project, header):
    """A client id equal to an earlier delivery id (or the reverse) is a different event."""
    delivered = post(client, EVENT, headers=dict(INGEST_HEADERS, **{header: "order-7"}))
    assert delivered.status_code == 202
    assert delivered.get_json()["data"]["eventId"] == "delivery:order-7"
    assert post(client, dict(EVENT, id="order-7")).status_code == 202
    assert post(client, dict(EVENT, id="batch-1")).status_code == 202
    batch = post(client, [EVENT, EVENT], headers=dict(INGEST_HEADERS, **{header: "batch"}))
    assert batch.get_json()["data"]["eventIds"] == ["delivery:batch#0", "delivery:batch#1"]
    assert post(client, dict(EVENT, id="batch#0")).status_code == 202
    wait_stored(app, 6)
    assert settle(app, 1.0) == 6
    assert sorted(sql_scalar(app, "SELECT json_agg(event_id) FROM event")) == [
        "batch#0", "batch-1", "delivery:batch#0", "delivery:batch#1", "delivery:order-7",
        "order-7"]


def test_a_client_id_in_the_delivery_namespace_is_refused(client, app, project):
    response = post(client, dict(EVENT, id="delivery:order-7"))
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["type"] == "string.reserved"
