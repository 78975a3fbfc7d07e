"""`where=metadata.key=value` on stats, listings and exports: exactly the events whose
`metadata->>key` equals (or starts with) the value, however the value is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from tests.helpers import READ_HEADERS, sql_scalar
from webapp.models import iso

VALUES = ["/pricing", "/pricing/team", "7", 7, 7.0, 1.10, "1.10", True, "true", None,
          {"a": 1}, [1, 2], "\u0001", ["\u0001"], "é", 1e15]
TEXTS = ["/pricing", "/pri", "7", "7.0", "1.1", "1.10", "true", '{"a": 1}', "[1, 2]",
         '["\\u0001"]', "\u0001", "é", "1e15", "1000000000000000", "null", "NaN", ""]


def store(app, project_id: int, values: list) -> None:
    from webapp.db import database
    from webapp.store.insert import store_batch

    now = datetime.now(UTC)
    with app.app_context():
        database.execute_sql("DELETE FROM event WHERE project_id = %s", (project_id,))
        store_batch(project_id, [
            {"id": f"p{i}", "type": "view" if i % 2 else "click", "user": f"u{i % 3}",
             "ts": iso(now - timedelta(seconds=i)), "rcv": iso(now),
             "meta": {} if value == "absent" else {"page": value}}
            for i, value in enumerate(values)])


def expected_ids(app, op: str, text: str) -> list[str]:
    test = "starts_with(metadata->>'page', %s)" if op == "^=" else "metadata->>'page' = %s"
    return sql_scalar(
        app, "SELECT COALESCE(json_agg(event_id ORDER BY \"timestamp\" DESC, id DESC), '[]') "
        f"FROM event WHERE {test}", (text,))


def test_filters_agree_with_the_text_of_the_property(app, client, project):
    """Every kind of stored value against every spelling of a filter, exhaustively."""
    store(app, project.id, VALUES + ["absent"])
    for text in TEXTS:
        for op in ("=", "^="):
            expected = expected_ids(app, op, text)
            where = "where=" + quote(f"metadata.page{op}{text}")
            listed = client.get(f"/events?filter=hour&limit=1000&{where}",
                                headers=READ_HEADERS).get_json()["data"]["events"]
            assert [e["id"] for e in listed] == expected, (op, text)
            stats = client.get(f"/events/stats?filter=hour&{where}",
                               headers=READ_HEADERS).get_json()["data"]
            assert stats["totalEvents"] == len(expected) == \
                sum(p["count"] for p in stats["series"])
            exported = client.get(f"/events/export?format=ndjson&{where}", headers=READ_HEADERS)
            lines = [json.loads(line) for line in exported.get_data(as_text=True).splitlines()]
            assert [e["id"] for e in lines] == expected
    assert expected_ids(app, "=", "7") == ["p2", "p3"]  # the string "7", the number 7


def test_a_bad_filter_is_a_400_listing_each_problem(client, project):
    answer = client.get("/events/stats?where=page=/x&where=metadata.=1", headers=READ_HEADERS)
    assert answer.status_code == 400
    assert len(answer.get_json()["errors"]) == 2
    assert client.get("/events/export?where=nope", headers=READ_HEADERS).status_code == 400
