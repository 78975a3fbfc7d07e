"""The annotations API: a deploy script writes, changes, lists and deletes notes with its
annotation key; a read token lists them; every problem of a request is listed at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import ANNOTATION_HEADERS, READ_HEADERS
from webapp.models import Project

pytestmark = pytest.mark.usefixtures("note_key")


def post(client, body, headers=ANNOTATION_HEADERS):
    return client.post("/annotations", data=json.dumps(body), headers=headers,
                       content_type="application/json")


def patch(client, note_id, body, headers=ANNOTATION_HEADERS):
    return client.patch(f"/annotations/{note_id}", data=json.dumps(body), headers=headers,
                        content_type="application/json")


def listed(client, query="", headers=READ_HEADERS) -> list[dict]:
    answer = client.get("/annotations" + query, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"]["annotations"]


def problems(answer) -> dict[str, str]:
    body = answer.get_json()
    assert answer.status_code == 400 and body["success"] is False, body
    return {"/".join(error["path"]): error["message"] for error in body["errors"]}


def test_a_deploy_script_writes_changes_lists_and_deletes_notes(app, client, project):
    with app.app_context():
        Project.update(time_zone="Europe/Berlin").where(Project.id == project.id).execute()
    before = datetime.now(UTC)
    now_note = post(client, {"text": "  deployed v2.3  "})
    assert now_note.status_code == 201, now_note.get_json()
    made = now_note.get_json()["data"]
    assert made["text"] == "deployed v2.3" and made["endsAt"] is None
    assert made["createdBy"] == {"kind": "key", "name": "deploy"}
    started = datetime.fromisoformat(made["startsAt"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= started <= datetime.now(UTC)

    # a range on the project's clocks (Berlin is UTC+1 in March), and a whole local day
    campaign = post(client, {"text": "campaign", "startsAt": "2026-03-02T09:30",
                             "endsAt": "2026-03-04"}).get_json()["data"]
    assert (campaign["startsAt"], campaign["endsAt"]) == ("2026-03-02T08:30:00.000Z",
                                                         "2026-03-04T23:00:00.000Z")
    old = post(client, {"text": "old", "startsAt": "2026-02-01T12:00:00Z"}).get_json()["data"]
    post(client, {"text": "a long season", "startsAt": "2025-03-10", "endsAt": "2026-02-28"})

    assert [n["text"] for n in listed(client)] == ["deployed v2.3", "campaign", "old",
                                                   "a long season"]
    assert listed(client, headers=ANNOTATION_HEADERS) == listed(client)
    # a range shows where it overlaps: 3 March holds the campaign, not the older note
    assert [n["text"] for n in listed(client, "?from=2026-03-03&to=2026-03-03")] == ["campaign"]
    assert [n["text"] for n in listed(client, "?from=2026-02-01&to=2026-02-01")] == [
        "old", "a long season"]
    whole = client.get("/annotations?from=2026-03-01&to=2026-03-31", headers=READ_HEADERS)
    data = whole.get_json()["data"]
    assert (data["from"], data["to"], data["timeZone"]) == (
        "2026-02-28T23:00:00.000Z", "2026-03-31T22:00:00.000Z", "Europe/Berlin")

    # a range made an instant, then its text changed: only the fields given change
    changed = patch(client, campaign["id"], {"endsAt": None})
    assert changed.status_code == 200 and changed.get_json()["data"]["endsAt"] is None
    renamed = patch(client, campaign["id"], {"text": "campaign started"}).get_json()["data"]
    assert (renamed["text"], renamed["startsAt"]) == ("campaign started", campaign["startsAt"])
    assert renamed["updatedAt"] > campaign["updatedAt"]

    assert client.delete(f"/annotations/{old['id']}",
                         headers=ANNOTATION_HEADERS).get_json()["data"] == {"id": old["id"]}
    assert client.delete(f"/annotations/{old['id']}",
                         headers=ANNOTATION_HEADERS).status_code == 404
    assert patch(client, old["id"], {"text": "x"}).status_code == 404
    assert [n["text"] for n in listed(client)] == ["deployed v2.3", "campaign started",
                                                   "a long season"]


def test_every_problem_of_a_request_is_listed_at_once(client):
    answer = post(client, {"text": " ", "startsAt": "yesterday", "endsAt": 5, "colour": "red"})
    assert answer.get_json()["message"] == "Invalid annotation"
    assert set(problems(answer)) == {"text", "startsAt", "endsAt", "colour"}
    assert "date (2026-03-08) or an instant" in problems(answer)["startsAt"]

    reversed_range = post(client, {"text": "x", "startsAt": "2026-03-02T10:00:00Z",
                                   "endsAt": "2026-03-02T09:00:00Z"})
    assert problems(reversed_range) == {"endsAt": "must be after startsAt"}
    for text in ("", "a\x00b", "tab\there", "x" * 201, 7, None):
        assert "text" in problems(post(client, {"text": text})), text
    assert "text" in problems(post(client, {}))
    assert post(client, {"text": "x" * 200}).status_code == 201
    assert "startsAt" in problems(post(client, {"text": "x", "startsAt": "0001-01-01"}))
    too_long = post(client, {"text": "x", "startsAt": "2025-01-01", "endsAt": "2026-02-05"})
    assert problems(too_long) == {"endsAt": "a range spans at most 400 days"}
    assert "" in problems(post(client, [{"text": "x"}]))
    surrogate = client.post("/annotations", data=b'{"text": "\\ud800"}',
                            headers=ANNOTATION_HEADERS, content_type="application/json")
    assert surrogate.status_code == 400
    malformed = client.post("/annotations", data=b'{"text": ', headers=ANNOTATION_HEADERS,
                            content_type="application/json")
    assert problems(malformed)[""].startswith("malformed JSON")
    assert client.post("/annotations", data="text=x", headers=ANNOTATION_HEADERS,
                       content_type="application/x-www-form-urlencoded").status_code == 415

    note = post(client, {"text": "x", "startsAt": "2026-03-02T09:00:00Z",
                         "endsAt": "2026-03-02T10:00:00Z"}).get_json()["data"]
    assert "" in problems(patch(client, note["id"], {}))
    # the other end stays where it was, and the refusal names it
    late = problems(patch(client, note["id"], {"startsAt": "2026-03-02T11:00:00Z"}))
    assert late == {"startsAt": "must be before endsAt (2026-03-02T10:00:00.000Z): change "
                                "endsAt too, or make it null"}
    early = problems(patch(client, note["id"], {"endsAt": "2026-03-02T08:00:00Z"}))
    assert early == {"endsAt": "must be after startsAt (2026-03-02T09:00:00.000Z)"}
    assert patch(client, note["id"], {"startsAt": "2026-03-02T11:00:00Z",
                                      "endsAt": None}).status_code == 200
    assert client.patch("/annotations/99999999999", headers=ANNOTATION_HEADERS,
                        json={"text": "x"}).status_code == 404
    assert client.get("/annotations?from=2026-13-01",
                      headers=READ_HEADERS).get_json()["errors"][0]["message"].startswith(
        '"from" must be a date')


def test_open_dashboards_are_told_of_each_change(client, redis, project):
    """Each write marks the project changed, so the next push redraws the chart's markers."""
    dirty = f"pulseboard:dirty:{project.id}"
    writes = [lambda: post(client, {"text": "deployed"}),
              lambda: patch(client, 1, {"text": "deployed v2"}),
              lambda: client.delete("/annotations/1", headers=ANNOTATION_HEADERS)]
    for write in writes:
        redis.delete(dirty)
        assert write().status_code in (200, 201)
        assert redis.get(dirty) is not None
    redis.delete(dirty)
    assert client.delete("/annotations/1", headers=ANNOTATION_HEADERS).status_code == 404
    assert redis.get(dirty) is None
