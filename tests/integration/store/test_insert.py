"""The write path: a batch of our own ids goes in as a plain INSERT, a repeat of it falls back
to the careful statement and adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import sql_scalar
from webapp.ingest import accept
from webapp.store import insert


def test_a_batch_delivered_again_after_its_commit_adds_nothing(app, project):
    now = datetime.now(UTC)
    payload = accept.prepare(b'[{"eventType": "a", "userId": "1"}, '
                             b'{"eventType": "b", "userId": "2"}]', now).payload
    assert insert.fresh_ids_only(payload)
    with app.app_context():
        assert insert.store_batch(project.id, payload) == 2
        assert insert.store_batch(project.id, payload) == 0
        # a batch that mixes in a sender's id takes the careful statement at once
        mixed = accept.prepare(b'[{"eventType": "a", "userId": "1", "id": "x"}, '
                               b'{"eventType": "a", "userId": "1"}]', now).payload
        assert not insert.fresh_ids_only(mixed)
        assert insert.store_batch(project.id, mixed) == 2
        assert insert.store_batch(project.id, mixed) == 0
    assert sql_scalar(app, "SELECT count(*) FROM event") == 4
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_minute") == 4
    assert sql_scalar(app, "SELECT sum(count) FROM event_rollup_hour") == 4
