"""No stored event can make a read fail: numbers of any size, deep metadata, odd text."""

from __future__ import annotations

import json

import pytest

from tests.helpers import READ_HEADERS
from webapp.db import database

BIG = "123456789012345678901234567890123456789"
DEEP = "[" * 400 + "1" + "]" * 400  # JSONB takes it; orjson would not write it nested


@pytest.fixture
def odd_events(app, project):
    """Events written by other means than our door (older versions, SQL by hand)."""
    with app.app_context():
        for index, metadata in enumerate([
            f'{{"big": {BIG}, "neg": -{BIG}, "frac": 1.{BIG}}}',
            f'{{"deep": {DEEP}}}',
            '{"huge": 1e400}',
        ]):
            database.execute_sql(
                "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
                "metadata, received_at) VALUES (%s, %s, 'a', 'u', now(), %s::jsonb, now())",
                (project.id, f"odd-{index}", metadata))


def test_events_listing_passes_any_stored_number_through_exactly(client, odd_events):
    response = client.get("/events?filter=hour", headers=READ_HEADERS)
    assert response.status_code == 200
    events = {e["id"]: e for e in json.loads(response.data, parse_int=str, parse_float=str)
              ["data"]["events"]}
    assert events["odd-0"]["metadata"] == {"big": BIG, "neg": "-" + BIG, "frac": "1." + BIG}
    assert events["odd-2"]["metadata"] == {"huge": "1" + "0" * 400}
    deep = json.dumps(events["odd-1"]["metadata"]["deep"], separators=(",", ":"))
    assert deep == DEEP.replace("1", '"1"')


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_exports_pass_any_stored_number_through(client, odd_events, fmt):
    response = client.get(f"/events/export?format={fmt}", headers=READ_HEADERS)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert BIG in text and "1" + "0" * 400 in text


def test_the_dashboard_shows_them_too(logged_in, odd_events):
    response = logged_in.get("/")
    assert response.status_code == 200
    assert BIG[:20] in response.get_data(as_text=True)
