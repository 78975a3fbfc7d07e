"""The annotation key writes and lists notes and does nothing else; no other credential
writes them through the API; a revoked one stops within seconds."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import (
    ANNOTATION_HEADERS,
    ANNOTATION_KEY,
    INGEST_HEADERS,
    READ_HEADERS,
    wait_until,
)
from webapp.models import ApiKey, digest
from webapp.tenancy.tenants import revoke_key

pytestmark = pytest.mark.usefixtures("note_key")
NOTE = json.dumps({"text": "deployed v2.3"})
BEARER = {"Authorization": f"Bearer {ANNOTATION_KEY}"}


def write(client, headers) -> int:
    return client.post("/annotations", data=NOTE, headers=headers,
                       content_type="application/json").status_code


def test_the_annotation_key_neither_sends_nor_reads_events(client):
    event = json.dumps({"eventType": "signup", "userId": "1"})
    for headers in (ANNOTATION_HEADERS, BEARER):
        answer = client.post("/webhook", data=event, headers=headers,
                             content_type="application/json")
        assert answer.status_code == 401, answer.get_json()
        for path in ("/events", "/events/stats", "/events/export", "/reports/trends?A=*",
                     "/reports/funnel?step=a&step=b", "/users?id=1", "/stream"):
            assert client.get(path, headers=headers).status_code == 401, path
        assert write(client, headers) == 201  # the one thing it does, either way it is sent


def test_only_an_annotation_key_writes_notes_through_the_api(client, logged_in):
    assert write(client, READ_HEADERS) == 403  # a read token lists them only
    note = client.get("/annotations", headers=READ_HEADERS)
    assert note.status_code == 200
    assert write(client, INGEST_HEADERS) == 401
    assert write(client, {}) == 401
    assert write(client, {"X-API-Key": "pb_note_not_a_key"}) == 401
    # a session lists notes, but the API takes no cookie for a change (no CSRF token here):
    # members change notes on the notes page
    assert logged_in.get("/annotations").status_code == 200
    assert write(logged_in, {}) == 401
    made = client.post("/annotations", data=NOTE, headers=ANNOTATION_HEADERS,
                       content_type="application/json").get_json()["data"]
    for headers in (READ_HEADERS, INGEST_HEADERS, {}):
        assert client.patch(f"/annotations/{made['id']}", json={"text": "x"},
                            headers=headers).status_code in (401, 403)
        assert client.delete(f"/annotations/{made['id']}",
                             headers=headers).status_code in (401, 403)
    assert client.get("/annotations?project=default", headers=ANNOTATION_HEADERS).status_code \
        == 200
    assert client.get("/annotations?project=other", headers=ANNOTATION_HEADERS).status_code \
        == 403


def test_a_revoked_annotation_key_stops_within_seconds(app, client, project):
    assert write(client, ANNOTATION_HEADERS) == 201
    with app.app_context():
        key = ApiKey.get(ApiKey.key_hash == digest(ANNOTATION_KEY))
        revoke_key(project, key.id, "annotate")
    wait_until(lambda: write(client, ANNOTATION_HEADERS) == 401, timeout=8,
               what="the revoked annotation key to be refused")
    # its notes stay, still named after it
    notes = client.get("/annotations", headers=READ_HEADERS).get_json()["data"]["annotations"]
    assert notes and {n["createdBy"]["name"] for n in notes} == {"deploy"}


def test_annotation_keys_are_made_on_the_keys_page_and_with_the_cli(app, project, logged_in):
    from tests.helpers import csrf_token

    page = logged_in.get("/manage/projects/default")
    assert '<option value="annotate">annotation key</option>' in page.get_data(as_text=True)
    made = logged_in.post("/manage/projects/default/keys", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "kind": "annotate",
        "name": "ci deploys"})
    assert made.status_code == 200
    secret = re.search(r'data-testid="new-secret">([^<]+)<', made.get_data(as_text=True))[1]
    assert secret.startswith("pb_note_")
    assert "<td>annotation key</td>" in made.get_data(as_text=True)
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["projects", "key", "default", "--kind", "annotate",
                                  "--name", "releases"])
    assert printed.exit_code == 0, printed.output
    cli_secret = re.search(r"annotate key #\d+ (\S+)", printed.output)[1]
    with app.app_context():
        for plain in (secret, cli_secret):
            assert ApiKey.project_id_for("annotate", plain) == project.id
            assert ApiKey.project_id_for("read", plain) is None
            assert ApiKey.project_id_for("ingest", plain) is None
    listed = runner.invoke(args=["projects", "keys", "default"])
    assert "annotate\tpb_note_" in listed.output
