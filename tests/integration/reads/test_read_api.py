"""GET /events and /events/stats against what is in the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import INGEST_HEADERS, READ_HEADERS, sql_scalar, wait_stored
from webapp.models import iso
from webapp.reads.windows import WINDOWS

pytestmark = pytest.mark.usefixtures("worker")


def post(client, body, headers=INGEST_HEADERS):
    response = client.post("/webhook", data=json.dumps(body), headers=headers,
                           content_type="application/json")
    assert response.status_code == 202, response.get_json()
    return response


def ago(**delta) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


@pytest.fixture
def spread(client, app, project):
    """Events from seconds to weeks old, several types and users."""
    ages = [{"seconds": 5}, {"minutes": 3}, {"minutes": 30}, {"minutes": 58}, {"minutes": 90},
            {"hours": 5}, {"hours": 23}, {"hours": 30}, {"days": 3}, {"days": 6}, {"days": 9},
            {"days": 400}]
    events = [
        {"eventType": ["page_view", "click", "signup"][i % 3], "userId": f"user-{i % 4}",
         "timestamp": ago(**age), "metadata": {"i": i}}
        for i, age in enumerate(ages)
    ]
    events.append({"eventType": "page_view", "userId": "user-9"})  # no timestamp: now
    post(client, events)
    wait_stored(app, len(events))
    return events


@pytest.mark.parametrize("name", list(WINDOWS))
def test_stats_equal_direct_sql(client, app, spread, name):
    response = client.get(f"/events/stats?filter={name}", headers=READ_HEADERS)
    assert response.status_code == 200
    data = response.get_json()["data"]
    start = datetime.fromisoformat(data["from"])
    where = "WHERE \"timestamp\" >= %s"
    assert data["totalEvents"] == sql_scalar(app, f"SELECT count(*) FROM event {where}", (start,))
    assert data["uniqueUsers"] == sql_scalar(
        app, f"SELECT count(DISTINCT user_id) FROM event {where}", (start,))
    rows = sql_scalar(app, "SELECT COALESCE(json_object_agg(event_type, n), '{}') FROM "
                      f"(SELECT event_type, count(*) n FROM event {where} GROUP BY 1) t", (start,))
    assert data["statistics"] == rows
    assert sum(point["count"] for point in data["series"]) == data["totalEvents"]
    assert len(data["series"]) == WINDOWS[name].buckets
    assert data["filter"] == name
    top = data["topEventTypes"]
    assert [t["count"] for t in top] == sorted(rows.values(), reverse=True)[:5]
    if data["totalEvents"]:
        assert sum(t["percentage"] for t in top) == pytest.approx(100, abs=0.05)


def test_stats_count_more_events_in_wider_windows(client, spread):
    totals = [client.get(f"/events/stats?filter={n}", headers=READ_HEADERS).get_json()["data"]
              ["totalEvents"] for n in ("hour", "day", "week")]
    assert totals == [5, 8, 11]


def test_events_newest_first_with_filters(client, spread):
    response = client.get("/events?filter=hour", headers=READ_HEADERS)
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["count"] == 5 and data["filter"] == "hour" and data["nextCursor"] is None
    stamps = [e["timestamp"] for e in data["events"]]
    assert stamps == sorted(stamps, reverse=True)
    assert set(data["events"][0]) == {"id", "eventType", "userId", "timestamp", "metadata",
                                      "receivedAt", "links"}
    assert data["events"][0]["links"]["user"].startswith("/users?id=")
    by_type = client.get("/events?filter=week&eventType=click", headers=READ_HEADERS)
    assert {e["eventType"] for e in by_type.get_json()["data"]["events"]} == {"click"}
    by_user = client.get("/events?filter=week&userId=user-1", headers=READ_HEADERS)
    assert {e["userId"] for e in by_user.get_json()["data"]["events"]} == {"user-1"}


def test_cursor_pages_through_everything_once(client, spread):
    seen, cursor = [], None
    while True:
        url = "/events?filter=week&limit=3" + (f"&cursor={cursor}" if cursor else "")
        data = client.get(url, headers=READ_HEADERS).get_json()["data"]
        seen += [e["id"] for e in data["events"]]
        cursor = data["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 11


@pytest.mark.parametrize("query,problem", [
    ("filter=year", '"filter" must be one of'),
    ("filter=hour&limit=0", '"limit" must be'),
    ("filter=hour&limit=1001", '"limit" must be'),
    ("filter=hour&limit=ten", '"limit" must be'),
    ("filter=hour&cursor=%%%", '"cursor"'),
])
def test_bad_queries_are_400(client, project, query, problem):
    for path in ("/events", "/events/stats"):
        if path == "/events/stats" and "filter=year" not in query:
            continue
        response = client.get(f"{path}?{query}", headers=READ_HEADERS)
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["message"].startswith(problem)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, INGEST_HEADERS])
def test_reads_need_the_read_token(client, project, headers):
    for path in ("/events", "/events/stats"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.get_json()["success"] is False


def test_every_answer_carries_security_headers(client, project):
    response = client.get("/health")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]
    # keyed webhooks are answered before Flask's request cycle (webapp/web/fastpath.py): the same
    # headers, accepted or refused
    expected = {name for name in response.headers.keys() if name != "Content-Length"}
    for headers in (INGEST_HEADERS, {}):
        answer = client.post("/webhook", json={"eventType": "a", "userId": "u"},
                             headers={**headers, "X-Request-ID": "req-9"})
        assert answer.status_code == (202 if headers else 401)
        assert expected <= set(answer.headers.keys())
        assert answer.headers["X-Request-ID"] == "req-9"
        assert answer.headers["Content-Security-Policy"] == csp
