"""Ids derived from deliveries before they had the `delivery:` prefix still count."""

from __future__ import annotations

from tests.helpers import INGEST_HEADERS, settle, sql_scalar, stored, wait_stored
from webapp.db import database


def test_a_retry_of_a_delivery_stored_before_the_delivery_namespace_is_stored_once(
        app, client, project, worker):
    """Derived ids once had no `delivery:` prefix; those rows keep their ids and still count."""
    with app.app_context():
        for event_id, age in (("order-9", "1 day"), ("order-9#1", "1 day"), ("order-10", "0")):
            database.execute_sql(
                "INSERT INTO event (project_id, event_id, event_type, user_id, \"timestamp\", "
                "metadata, received_at) SELECT %s, %s, 'a', 'u', now(), '{}', since - %s::interval"
                " FROM delivery_namespace", (project.id, event_id, age))
    single = {"eventType": "a", "userId": "u"}
    for key, body in (("order-9", single), ("order-9", [single, single]), ("order-10", single)):
        response = client.post("/webhook", json=body, headers={**INGEST_HEADERS,
                                                              "Idempotency-Key": key})
        assert response.status_code == 202
    # order-9 and order-9#1 were stored before; order-9#0 is new; order-10 was a client's id
    # (received after the namespace began), so delivery order-10 is another event
    assert wait_stored(app, 5) == 5
    assert settle(app, 1.0) == 5 == stored(app)
    assert sorted(sql_scalar(app, "SELECT json_agg(event_id) FROM event")) == [
        "delivery:order-10", "delivery:order-9#0", "order-10", "order-9", "order-9#1"]
