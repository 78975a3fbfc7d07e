"""Values PostgreSQL cannot store, or that do not belong in a column, are refused at the door."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.helpers import INGEST_HEADERS, sql_scalar, wait_stored
from tests.integration.ingest.test_signed_webhooks import signed_headers
from tests.integration.ingest.test_webhook import nothing_entered, stored_once
from webapp.models import Event
from webapp.tenancy.tenants import add_signing_secret

pytestmark = pytest.mark.usefixtures("worker")
EVENT = json.dumps({"eventType": "page_view", "userId": "u1"})
BAD_TOKENS = ["a\x00b", "key\x01", "tab\there", "bell\x07", "del\x7f", "caf\xe9"]


def post(client, body):
    """A keyed POST /webhook of `body` (JSON text, or a value to encode)."""
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/webhook", data=data, headers=INGEST_HEADERS,
                       content_type="application/json")


@pytest.fixture
def secret(app, project):
    with app.app_context():
        return add_signing_secret(project, "sender").secret


@pytest.mark.parametrize("value", BAD_TOKENS)
@pytest.mark.parametrize("header", ["Idempotency-Key", "webhook-id"])
def test_keyed_fast_path_refuses_unstorable_delivery_headers(client, app, redis, project, header,
                                                             value):
    response = client.post("/webhook", data=EVENT, content_type="application/json",
                           headers={**INGEST_HEADERS, header: value})
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["errors"][0]["path"] == ["headers", header]
    assert "control characters" in body["errors"][0]["message"]
    assert nothing_entered(app, redis)


@pytest.mark.parametrize("value", BAD_TOKENS)
def test_signed_route_refuses_an_unstorable_webhook_id(client, app, redis, secret, value):
    headers = signed_headers(secret, value)
    response = client.post("/webhook/default", data=EVENT, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["errors"][0]["path"] == ["headers", "webhook-id"]
    assert nothing_entered(app, redis)


def test_flask_view_refuses_an_unstorable_idempotency_key(client, app, redis, secret):
    """A keyed request with signature headers goes through the Flask view, not the fast path."""
    headers = {**signed_headers(secret, "msg_1"), **INGEST_HEADERS, "Idempotency-Key": "x\x00"}
    response = client.post("/webhook", data=EVENT, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["path"] == ["headers", "Idempotency-Key"]
    assert nothing_entered(app, redis)


@pytest.mark.parametrize("field,value", [("userId", "u\x00"), ("userId", "u\x1b[31m"),
                                         ("userId", "line\nbreak"), ("id", "e\x00"),
                                         ("id", "e\x85")])
def test_control_characters_in_columns_are_refused(client, app, redis, project, field, value):
    event = {"eventType": "a", "userId": "u", field: value}
    response = post(client, event)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["path"] == [field]
    assert nothing_entered(app, redis)


def test_an_unpaired_surrogate_is_refused(client, app, redis, project):
    response = client.post("/webhook", data='{"eventType":"a","userId":"\\ud800"}',
                           headers=INGEST_HEADERS, content_type="application/json")
    assert response.status_code == 400
    assert nothing_entered(app, redis)


def test_printable_unicode_is_still_accepted(client, app, project):
    event = {"eventType": "a", "userId": "Zoë 👩‍💻 東京", "id": "évènement-1"}
    response = post(client, event)
    assert response.status_code == 202
    [row] = stored_once(app, 1)
    assert (row["user_id"], row["event_id"]) == ("Zoë 👩‍💻 東京", "évènement-1")


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "18446744073709551616",
                                    "-9223372036854775809", "1" + "0" * 40])
def test_integers_outside_64_bits_are_refused_not_rounded(client, app, redis, project, number):
    raw = '{"eventType":"a","userId":"u","metadata":{"n":' + number + "}}"
    response = post(client, raw)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["errors"][0]["type"] == "number.unsafe"
    assert nothing_entered(app, redis)


def test_integers_within_64_bits_are_kept_exactly(client, app, project):
    raw = ('[{"eventType":"a","userId":"u","metadata":{"n":18446744073709551615,'
           '"m":-9223372036854775808,"s":"12345678901234567890123"}}]')
    response = post(client, raw)
    assert response.status_code == 202
    wait_stored(app, 1)
    assert sql_scalar(app, "SELECT metadata::text FROM event") == (
        '{"m": -9223372036854775808, "n": 18446744073709551615, "s": "12345678901234567890123"}')


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "0001-01-01T00:30:00+00:31",
                                    "9999-12-31T23:59:59-01:00", "10000-01-01T00:00:00Z",
                                    "２０２４-01-01T00:00:00Z", "2024-01-01T00:00:00+99:00"])
def test_out_of_range_timestamps_are_400(client, app, redis, project, moment):
    for body in ({"eventType": "a", "userId": "u", "timestamp": moment},
                 [{"eventType": "a", "userId": "u", "timestamp": moment}]):
        response = post(client, body)
        assert response.status_code == 400, (moment, response.get_json())
        assert response.get_json()["errors"][0]["type"] in ("date.range", "date.format",
                                                            "date.max")
    assert nothing_entered(app, redis)


def test_the_earliest_and_latest_utc_moments_are_accepted(client, app, project):
    body = [{"eventType": "a", "userId": "u", "timestamp": "0001-01-01T00:00:00-01:00"},
            {"eventType": "a", "userId": "u", "timestamp": "0001-01-01T00:00:00Z"}]
    response = post(client, body)
    assert response.status_code == 202
    assert wait_stored(app, 2) == 2
    with app.app_context():  # as sent (a year of one digit was once read as 2001)
        stored_at = sorted(event.timestamp for event in Event.select())
    assert stored_at == [datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 1, 1, tzinfo=UTC)]


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [65, 250, 255, 600, 1000])
def test_metadata_nested_too_deep_is_400(client, app, redis, project, depth):
    metadata = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
    event = '{"eventType":"a","userId":"u","metadata":' + metadata + "}"
    for body in (event, f"[{event}]"):
        response = post(client, body)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["errors"][0]["type"] == "object.depth"
    assert nothing_entered(app, redis)


def test_metadata_at_the_depth_limit_is_stored(client, app, project):
    body = {"eventType": "a", "userId": "u", "metadata": {"list": [nested(62)]}}
    response = post(client, body)
    assert response.status_code == 202
    assert wait_stored(app, 1) == 1


@pytest.mark.parametrize("value", ["²", "1²", "٣", "1" * 1000, "1" * 5000, "-1", "0x10", " 1"])
def test_webhook_timestamp_that_is_not_ascii_seconds_is_400(client, app, redis, secret, value):
    headers = {**signed_headers(secret, "msg_ts"), "webhook-timestamp": value}
    response = client.post("/webhook/default", data=EVENT, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert "whole seconds" in response.get_json()["message"]
    assert nothing_entered(app, redis)


@pytest.mark.parametrize("slug", ["de%00fault", "%01", "d%C3%A9faut", "a" * 300])
def test_a_project_in_the_url_that_cannot_be_a_slug_is_401(client, app, redis, project, slug):
    """Refused before any lookup: 401, or 400 for a NUL, which no path of any route may hold."""
    response = client.post(f"/webhook/{slug}", data=EVENT, content_type="application/json")
    assert response.status_code == (400 if "%00" in slug else 401), response.get_json()
    assert nothing_entered(app, redis)
