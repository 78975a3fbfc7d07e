"""Streamed exports: CSV that reads back identically, NDJSON and JSON, filters."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.helpers import INGEST_HEADERS, READ_HEADERS, wait_stored

pytestmark = pytest.mark.usefixtures("worker")

AWKWARD = [
    {"eventType": "note", "userId": 'he said "hi", then left', "id": "e1",
     "metadata": {"text": "line one\nline two, with a comma", "quote": '"quoted"'}},
    {"eventType": "note", "userId": "Zoë Ünïcødé 東京 🚀", "id": "e2",
     "metadata": {"emoji": "🎉", "crlf": "a\r\nb", "nested": {"k": ["x", 1, None, True]}}},
    {"eventType": "other", "userId": "plain", "id": "e3"},
]


@pytest.fixture
def awkward(client, app, project):
    response = client.post("/webhook", data=json.dumps(AWKWARD), headers=INGEST_HEADERS,
                           content_type="application/json")
    assert response.status_code == 202
    wait_stored(app, len(AWKWARD))


def test_csv_reads_back_identically(client, awkward):
    response = client.get("/events/export?format=csv&filter=hour", headers=READ_HEADERS)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {"e1", "e2", "e3"}
    for sent in AWKWARD:
        row = by_id[sent["id"]]
        assert row["userId"] == sent["userId"]
        assert row["eventType"] == sent["eventType"]
        assert json.loads(row["metadata"]) == sent.get("metadata", {})


def test_ndjson_and_json(client, awkward):
    ndjson = client.get("/events/export?format=ndjson", headers=READ_HEADERS)
    lines = [json.loads(line) for line in ndjson.get_data(as_text=True).splitlines()]
    assert {e["id"]: e["metadata"] for e in lines} == {e["id"]: e.get("metadata", {})
                                                       for e in AWKWARD}
    whole = client.get("/events/export?format=json&eventType=note", headers=READ_HEADERS)
    assert {e["id"] for e in json.loads(whole.get_data())} == {"e1", "e2"}


def test_export_filters_and_errors(client, awkward):
    by_user = client.get("/events/export?format=ndjson&userId=plain", headers=READ_HEADERS)
    assert [json.loads(x)["id"] for x in by_user.get_data(as_text=True).splitlines()] == ["e3"]
    assert client.get("/events/export?format=xml", headers=READ_HEADERS).status_code == 400
    assert client.get("/events/export?filter=year", headers=READ_HEADERS).status_code == 400
    assert client.get("/events/export").status_code == 401
    empty = client.get("/events/export?format=json&eventType=none", headers=READ_HEADERS)
    assert json.loads(empty.get_data()) == []
