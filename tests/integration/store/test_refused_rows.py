"""A batch PostgreSQL refuses never loops: refused events are kept aside, the rest is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import drain, settle, sql_scalar, wait_stored, wait_until
from webapp.ingest.accept import publish
from webapp.models import iso


def event(event_id: str, **changes) -> dict:
    now = iso(datetime.now(UTC))
    return {"id": event_id, "type": "a", "user": "u", "ts": now, "meta": {"n": 1}, "rcv": now,
            **changes}


def dead_letters(app) -> list:
    return sql_scalar(app, "SELECT coalesce(json_agg(d ORDER BY id), '[]') FROM dead_letter d")


def test_refused_events_become_dead_letters_and_their_group_mates_are_stored(app, redis,
                                                                           project, worker):
    # Two requests that shared one group-commit message, each with an event PostgreSQL refuses
    # (as an older version of the door, or a replayed dead letter, could queue them).
    first = [event(f"first-{i}") for i in range(3)] + [event("bad\x00id")]
    second = [event("bad-meta", meta={"k": "v\x00"}), event("bad-user", user="u\x00"),
              event("bad-time", ts="not a time")] + [event(f"second-{i}") for i in range(3)]
    with app.app_context():
        publish(app.extensions["celery"], project.id, first + second, ["r1", "r2"])
    assert wait_stored(app, 6, timeout=30) == 6
    wait_until(lambda: len(dead_letters(app)) == 4, timeout=15, what="4 dead letters")
    drain(redis)
    assert settle(app, 2.0) == 6  # and nothing more arrives: no redelivery loop
    letters = dead_letters(app)
    assert len(letters) == 4 and all(letter["events"] == 1 for letter in letters)
    kept = {letter["payload"][0]["id"]: letter for letter in letters}
    assert set(kept) == {"bad\\u0000id", "bad-meta", "bad-user", "bad-time"}
    assert kept["bad-meta"]["payload"][0]["meta"] == {"k": "v\\u0000"}
    assert "escaped" in kept["bad-user"]["error"]
    assert "DataError" in kept["bad-time"]["error"] and "escaped" not in kept["bad-time"]["error"]
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 6
    assert sorted(sql_scalar(app, "SELECT json_agg(event_id) FROM event")) == [
        "first-0", "first-1", "first-2", "second-0", "second-1", "second-2"]

