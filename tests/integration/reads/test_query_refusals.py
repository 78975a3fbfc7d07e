"""Numbers and cursors in queries: anything but what the API gives out is a 400, never a 500."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import READ_HEADERS


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("limit", ["²", "1²", "٣", "1" * 1000, "1" * 5000, "0", "1001", "-5",
                                   "1.5", "1e3"])
def test_limit_outside_ascii_1_to_1000_is_400(client, project, limit):
    response = client.get("/events", query_string={"limit": limit}, headers=READ_HEADERS)
    assert response.status_code == 400, response.get_json()
    assert '"limit"' in response.get_json()["errors"][0]["message"]


@pytest.mark.parametrize("value", [
    cursor("2026-01-01T00:00:00+00:00|²"), cursor("2026-01-01T00:00:00+00:00|" + "9" * 1000),
    cursor("2026-01-01T00:00:00+00:00|" + "9" * 5000), cursor("0001-01-01T00:00:00+01:00|5"),
    cursor("2026-01-01T00:00:00|5"), cursor("２０２６-01-01T00:00:00+00:00|5"),
    cursor("9999-12-31T23:59:59-01:00|1"), "%%%", "²", cursor("a|b|c"),
])
def test_cursor_not_given_out_by_the_api_is_400(client, project, value):
    response = client.get("/events", query_string={"cursor": value}, headers=READ_HEADERS)
    assert response.status_code == 400, response.get_json()
    assert '"cursor"' in response.get_json()["errors"][0]["message"]


def test_a_real_cursor_still_pages(client, project, app):
    from webapp.db import database

    with app.app_context():
        for index in range(3):
            database.execute_sql(
                "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
                "metadata, received_at) VALUES (%s, %s, 'a', 'u', now(), '{}', now())",
                (project.id, f"e{index}"))
    first = client.get("/events?limit=2", headers=READ_HEADERS).get_json()["data"]
    second = client.get("/events", query_string={"limit": 2, "cursor": first["nextCursor"]},
                        headers=READ_HEADERS).get_json()["data"]
    assert first["count"] == 2 and second["count"] == 1 and second["nextCursor"] is None
