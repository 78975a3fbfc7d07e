"""The timeline's summary of the days before today is cached until a commit touches one of
them; today's rows are read every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.models import iso
from webapp.reports import cache, timeline
from webapp.reports.definition import Scope

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def commit(app, project_id: int, events: list[tuple[str, datetime]]) -> None:
    """Store events of user u1 and count the commit on their days, as the worker does."""
    from webapp.store.insert import store_batch

    payload = [{"id": f"c{moment.timestamp()}{kind}", "type": kind, "user": "u1", "meta": {},
                "ts": iso(moment), "rcv": iso(NOW)} for kind, moment in events]
    store_batch(project_id, payload)
    pipe = app.extensions["redis"].pipeline()
    cache.touch(pipe, project_id, [{"ts": p["ts"]} for p in payload])
    pipe.execute()


def test_older_days_are_cached_until_a_commit_touches_them(app, project):
    scope = Scope(project.id, None, None)
    with app.app_context():
        cache.forget_all(app.extensions["redis"])
        commit(app, project.id, [("view", NOW - timedelta(days=2)), ("view", NOW)])
        assert timeline.compute(scope, "u1", now=NOW)["totalEvents"] == 2
        # a row written behind the cache's back, two days ago: the cached summary stands
        from webapp.store.insert import store_batch

        store_batch(project.id, [{"id": "quiet", "type": "buy", "user": "u1", "meta": {},
                                  "ts": iso(NOW - timedelta(days=2)), "rcv": iso(NOW)}])
        got = timeline.compute(scope, "u1", now=NOW)
        assert got["totalEvents"] == 2 and len(got["events"]) == 3  # the page reads rows
        # a commit today: today's part is read again, the older days still come from the cache
        commit(app, project.id, [("view", NOW + timedelta(minutes=1))])
        assert timeline.compute(scope, "u1", now=NOW)["totalEvents"] == 3
        # a commit on an older day: the cached summary is computed again
        commit(app, project.id, [("share", NOW - timedelta(days=1))])
        got = timeline.compute(scope, "u1", now=NOW)
        assert got["totalEvents"] == 5
        assert {row["type"]: row["count"] for row in got["eventTypes"]} == {
            "view": 3, "buy": 1, "share": 1}
        assert got["firstSeen"] == iso(NOW - timedelta(days=2))
        assert got["lastSeen"] == iso(NOW + timedelta(minutes=1))
