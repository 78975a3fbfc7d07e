"""A cached retention result stands only while every day it depends on is unchanged: the days
before its range too, where its users' first events (their births) lie."""

from __future__ import annotations

import json

from tests.helpers import INGEST_HEADERS, READ_HEADERS, drain, wait_stored

RETENTION = "/reports/retention?from=2026-12-02&to=2026-12-04&start=born_x"


def test_a_late_birth_before_the_range_computes_retention_again(app, client, project, redis,
                                                                worker):
    posted = 0

    def post(moment: str) -> None:
        nonlocal posted
        answer = client.post("/webhook", data=json.dumps([
            {"eventType": "born_x", "userId": "u1", "timestamp": moment}]),
            headers=INGEST_HEADERS, content_type="application/json")
        assert answer.status_code == 202
        posted += 1
        wait_stored(app, posted)
        drain(redis)  # the worker counted the commit on the event's day

    def retention() -> tuple[list, bool]:
        data = client.get(RETENTION, headers=READ_HEADERS).get_json()["data"]
        return [(c["cohort"], c["users"]) for c in data["cohorts"]], data["cached"]

    post("2026-12-04T10:00:00Z")
    assert retention() == ([("2026-12-04", 1)], False)
    assert retention() == ([("2026-12-04", 1)], True)
    post("2026-12-06T10:00:00Z")  # after the range's end: nothing it depends on
    assert retention() == ([("2026-12-04", 1)], True)
    post("2026-11-29T10:00:00Z")  # u1 was born before the range after all
    assert retention() == ([], False)
    assert retention() == ([], True)
