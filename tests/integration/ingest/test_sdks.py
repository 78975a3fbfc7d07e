"""Segment's and PostHog's own Python SDKs, unchanged but for the host, send to a live gunicorn;
the real worker stores what they flushed once, with the right user, name, time and properties."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import segment.analytics
from posthog import Posthog
from posthog import request as posthog_request
from segment.analytics import request as segment_request
from segment.analytics.client import Client as SegmentClient

from tests.helpers import INGEST_KEY, settle, sql_scalar, wait_stored

# events sent here are stored by the session's workers, which a test
# before may have stopped (the live server is the session's: it does not start them again)
pytestmark = pytest.mark.usefixtures("worker")

WHEN = datetime(2024, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)


def rows(app) -> dict[str, dict]:
    found = sql_scalar(app, "SELECT coalesce(json_agg(row_to_json(e)), '[]') FROM event e")
    return {row["event_id"]: row for row in found}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def near(text: str, expected: datetime, within: float = 2.0) -> bool:
    """Stored times are the sent time moved by the request's transit (a few ms here)."""
    return abs(moment(text) - expected) < timedelta(seconds=within)


@pytest.fixture
def segment_client(live_server):
    errors: list = []
    client = SegmentClient(INGEST_KEY, host=live_server.url, upload_interval=0.1, max_retries=1,
                           on_error=lambda exc, batch: errors.append(exc))
    client.errors = errors
    yield client
    client.shutdown()


@pytest.fixture
def posthog_client(live_server):
    errors: list = []
    client = Posthog(INGEST_KEY, host=live_server.url, flush_interval=0.1, max_retries=1,
                     gzip=True, on_error=lambda exc, batch: errors.append(exc))
    client.errors = errors
    yield client
    client.shutdown()


def test_segment_sdk_calls_are_stored_once_with_user_name_time_and_properties(
        segment_client, app, project):
    segment_client.track("u1", "Order Completed", {"revenue": 42.5, "items": ["a", "b"]},
                         timestamp=WHEN, message_id="seg-track")
    segment_client.identify("u1", {"plan": "pro"}, message_id="seg-identify")
    segment_client.page(anonymous_id="anon-1", name="Pricing", properties={"path": "/pricing"},
                        message_id="seg-page")
    segment_client.screen("u1", name="Home", message_id="seg-screen")
    segment_client.group("u1", "g1", {"seats": 3}, message_id="seg-group")
    segment_client.alias("anon-1", "u1", message_id="seg-alias")
    segment_client.flush()
    assert segment_client.errors == []
    wait_stored(app, 6)
    stored = rows(app)
    assert {key: (row["event_type"], row["user_id"], row["metadata"])
            for key, row in stored.items()} == {
        "seg-track": ("Order Completed", "u1", {"revenue": 42.5, "items": ["a", "b"]}),
        "seg-identify": ("identify", "u1", {"plan": "pro"}),
        "seg-page": ("page", "anon-1", {"name": "Pricing", "path": "/pricing"}),
        "seg-screen": ("screen", "u1", {"name": "Home"}),
        "seg-group": ("group", "u1", {"groupId": "g1", "seats": 3}),
        "seg-alias": ("alias", "u1", {"previousId": "anon-1"})}
    assert near(stored["seg-track"]["timestamp"], WHEN)
    assert near(stored["seg-identify"]["timestamp"], moment(stored["seg-identify"]["received_at"]))


def assert_stored_once(client, app, count: int) -> None:
    """The SDK flushed without an error, and its events (retries included) count once."""
    client.flush()
    assert client.errors == []
    wait_stored(app, count)
    assert settle(app, 1.0) == count
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == count


def test_segment_retried_batch_is_stored_once(segment_client, live_server, app, project):
    batch = [{"type": "track", "event": "Signed Up", "userId": f"u{i}", "messageId": f"m-{i}",
              "timestamp": WHEN.isoformat(), "properties": {"i": i}} for i in range(3)]
    for _ in range(2):  # what the SDK's consumer does when an answer is lost: post it again
        assert segment_request.post(INGEST_KEY, live_server.url, batch=batch).status_code == 200
    segment_client.track("u0", "Signed Up", {"i": 0}, timestamp=WHEN, message_id="m-0")
    assert_stored_once(segment_client, app, 3)


def test_segment_sdk_reads_our_refusals(live_server, project):
    errors: list = []
    client = SegmentClient("wrong-key", host=live_server.url, upload_interval=0.1,
                           max_retries=1, on_error=lambda exc, batch: errors.append(exc))
    client.track("u1", "x")
    client.flush()
    client.shutdown()
    [error] = errors
    assert (error.status, error.code, error.message) == (401, "unauthorized", "Invalid API key")
    with pytest.raises(segment_request.APIError) as caught:
        segment_request.post(INGEST_KEY, live_server.url,
                             batch=[{"type": "track", "userId": "u", "event": "x\x01"}])
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")


def test_posthog_sdk_events_are_stored_once_with_user_name_time_and_properties(
        posthog_client, app, project):
    ids = {name: str(uuid.uuid4()) for name in ("view", "order", "set", "alias")}
    posthog_client.capture("$pageview", distinct_id="d1", timestamp=WHEN, uuid=ids["view"],
                           properties={"$current_url": "https://example.test/a"})
    posthog_client.capture("Order Completed", distinct_id="d1", uuid=ids["order"],
                           properties={"revenue": 42.5})
    posthog_client.set(distinct_id="d1", properties={"plan": "pro"}, uuid=ids["set"])
    posthog_client.alias("anon-1", "d1", uuid=ids["alias"])
    posthog_client.flush()
    assert posthog_client.errors == []
    wait_stored(app, 4)
    stored = rows(app)
    view, order = stored[ids["view"]], stored[ids["order"]]
    assert (view["event_type"], view["user_id"]) == ("$pageview", "d1")
    assert view["metadata"]["$current_url"] == "https://example.test/a"
    assert view["metadata"]["$lib"] == "posthog-python"
    assert near(view["timestamp"], WHEN)
    assert (order["event_type"], order["metadata"]["revenue"]) == ("Order Completed", 42.5)
    assert near(order["timestamp"], moment(order["received_at"]))
    assert stored[ids["set"]]["event_type"] == "$set"
    assert stored[ids["set"]]["metadata"]["$set"] == {"plan": "pro"}
    assert (stored[ids["alias"]]["event_type"], stored[ids["alias"]]["user_id"]) == (
        "$create_alias", "anon-1")
    assert INGEST_KEY not in str(stored)


def test_posthog_sdk_in_capture_v1_mode(live_server, app, project):
    errors: list = []
    client = Posthog(INGEST_KEY, host=live_server.url, flush_interval=0.1, max_retries=1,
                     capture_mode="v1", capture_compression="gzip",
                     on_error=lambda exc, batch: errors.append(exc))
    ids = [str(uuid.uuid4()) for _ in range(2)]
    client.capture("$pageview", distinct_id="d1", timestamp=WHEN, uuid=ids[0],
                   properties={"$current_url": "/v1", "$session_id": "s1"})
    client.capture("Order Completed", distinct_id="d2", uuid=ids[1], properties={"n": 1})
    client.capture("Order Completed", distinct_id="d2", uuid=ids[1], properties={"n": 1})
    client.flush()
    bad = Posthog("wrong-key", host=live_server.url, flush_interval=0.1, max_retries=0,
                  capture_mode="v1", on_error=lambda exc, batch: errors.append(exc))
    bad.capture("x", distinct_id="u")
    bad.flush()
    bad.shutdown()
    client.shutdown()
    [refused] = errors
    assert (refused.status, refused.message) == (401, "Invalid API key")
    wait_stored(app, 2)
    assert settle(app, 0.5) == 2
    stored = rows(app)
    view = stored[ids[0]]
    assert (view["event_type"], view["user_id"]) == ("$pageview", "d1")
    assert view["metadata"]["$session_id"] == "s1" and view["metadata"]["$lib"] == "posthog-python"
    assert near(view["timestamp"], WHEN)
    assert stored[ids[1]]["metadata"]["n"] == 1


def test_posthog_retried_batch_is_stored_once(posthog_client, live_server, app, project):
    batch = [{"event": "signed up", "distinct_id": f"d{i}", "uuid": str(uuid.uuid4()),
              "timestamp": WHEN.isoformat(), "properties": {"i": i}} for i in range(3)]
    for _ in range(2):  # the consumer's retry after a lost answer: the same batch again
        posthog_request.batch_post(INGEST_KEY, live_server.url, gzip=True, batch=batch)
    posthog_client.capture("signed up", distinct_id="d0", uuid=batch[0]["uuid"],
                           timestamp=WHEN, properties={"i": 0})
    assert_stored_once(posthog_client, app, 3)


def test_posthog_sdk_reads_our_refusals(live_server, project):
    with pytest.raises(posthog_request.APIError) as caught:
        posthog_request.batch_post("wrong-key", live_server.url, batch=[
            {"event": "x", "distinct_id": "u", "uuid": str(uuid.uuid4())}])
    assert (caught.value.status, caught.value.message) == (401, "Invalid API key")
    with pytest.raises(posthog_request.APIError) as caught:
        posthog_request.batch_post(INGEST_KEY, live_server.url, batch=[{"event": "x"}])
    assert (caught.value.status, caught.value.message) == (400, "Validation failed")


def test_a_senders_clock_an_hour_fast_is_corrected(live_server, app, project):
    fast = datetime.now(UTC) + timedelta(hours=1)  # the device's clock when it sends
    stamped = (fast - timedelta(minutes=10)).isoformat()  # it recorded the event 10 min before
    segment_request.post(INGEST_KEY, live_server.url, sentAt=fast.isoformat(), batch=[
        {"type": "track", "event": "late", "userId": "u", "messageId": "seg",
         "timestamp": stamped}])
    # PostHog's SDK stamps `sent_at` with its own clock, which is right on this machine
    requests.post(live_server.url + "/batch/", timeout=10, json={
        "api_key": INGEST_KEY, "sent_at": fast.isoformat(), "batch": [
            {"event": "late", "distinct_id": "u", "uuid": "ph", "timestamp": stamped}]})
    wait_stored(app, 2)
    for row in rows(app).values():
        assert near(row["timestamp"], moment(row["received_at"]) - timedelta(minutes=10)), row


def readme_snippets(language: str) -> list[str]:
    text = (Path(__file__).resolve().parents[3] / "docs" / "ingest-protocols.md").read_text()
    section = text[text.index("## Send from Segment or PostHog"):]
    section = section[:section.index("\n## ")]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def test_the_readme_snippets_send_as_written(live_server, app, project, monkeypatch):
    monkeypatch.setenv("WEBHOOK_API_KEY", INGEST_KEY)
    snippets = readme_snippets("python")
    assert len(snippets) == 2
    try:
        for code in snippets:
            namespace: dict = {}
            exec(compile(code.replace("http://127.0.0.1:8000", live_server.url),
                         "ingest-protocols.md", "exec"), namespace)
            if "posthog" in namespace:
                namespace["posthog"].shutdown()
    finally:
        if segment.analytics.default_client is not None:
            segment.analytics.shutdown()
            segment.analytics.default_client = None
    wait_stored(app, 4)
    assert sorted((row["event_type"], row["user_id"]) for row in rows(app).values()) == [
        ("$pageview", "user-42"), ("Order Completed", "user-42"),
        ("Order Completed", "user-42"), ("identify", "user-42")]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed on this machine")
def test_the_readme_curl_commands_send_as_written(live_server, app, project):
    [commands] = readme_snippets("bash")
    env = dict(os.environ, WEBHOOK_API_KEY=INGEST_KEY)
    done = subprocess.run(["bash", "-ec", commands.replace("http://127.0.0.1:8000",
                                                           live_server.url)],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"success":true}{"status":1}'
    wait_stored(app, 2)
    assert sorted(row["event_type"] for row in rows(app).values()) == ["$pageview",
                                                                       "Order Completed"]
