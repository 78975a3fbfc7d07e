"""`/events/stats` by the hour on the days Australia/Lord_Howe moves its clocks by half an
hour: every hourly bucket is labelled with its own first instant, and counts its own events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import READ_HEADERS
from webapp.models import iso


@pytest.mark.parametrize("day, stamps, expected", [
    # 02:00+10:30 becomes 02:30+11:00 at 15:30Z: the local hour 02 lasts half an hour
    ("2026-10-04", ["2026-10-03T15:20:00Z", "2026-10-03T15:45:00Z", "2026-10-03T16:10:00Z"],
     [("2026-10-03T14:30:00.000Z", "2026-10-04T01:00+10:30", 1),
      ("2026-10-03T15:30:00.000Z", "2026-10-04T02:30+11:00", 1),
      ("2026-10-03T16:00:00.000Z", "2026-10-04T03:00+11:00", 1)]),
    # 02:00+11:00 becomes 01:30+10:30 at 15:00Z: a second, half-hour long local hour 01
    ("2026-04-05", ["2026-04-04T14:50:00Z", "2026-04-04T15:10:00Z", "2026-04-04T15:40:00Z"],
     [("2026-04-04T14:00:00.000Z", "2026-04-05T01:00+11:00", 1),
      ("2026-04-04T15:00:00.000Z", "2026-04-05T01:30+10:30", 1),
      ("2026-04-04T15:30:00.000Z", "2026-04-05T02:00+10:30", 1)]),
])
def test_lord_howe_hours_are_labelled_with_their_own_start(app, client, project, day, stamps,
                                                           expected):
    from webapp.store.insert import store_batch
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "Australia/Lord_Howe")
        store_batch(project.id, [{"id": f"e{i}", "type": "view", "user": "u1", "ts": stamp,
                                  "meta": {"x": "y"}, "rcv": iso(datetime.now(UTC))}
                                 for i, stamp in enumerate(stamps)])
    for extra in ("", "&where=metadata.x=y"):  # from the rollups, and from the events
        answer = client.get(f"/events/stats?from={day}&to={day}&bucket=hour{extra}",
                            headers=READ_HEADERS)
        assert answer.status_code == 200, answer.get_json()
        series = answer.get_json()["data"]["series"]
        starts = [point["timestamp"] for point in series]
        assert starts == sorted(set(starts))
        found = [(p["timestamp"], p["local"], p["count"]) for p in series]
        assert all(point in found for point in expected), found
        assert sum(p["count"] for p in series) == 3
