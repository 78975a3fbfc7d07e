"""The notes page and the dashboard's chart: every member sees the notes (as lines and bands
with their text on hover, and in the table under the chart); owners and admins add, change
and delete them with plain forms (CSRF-checked), with htmx or without."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from tests.helpers import ANNOTATION_HEADERS, csrf_token, login
from webapp.models import Annotation, Membership, Organization
from webapp.tenancy.accounts import create_user

PAGE = "/manage/projects/default/annotations"


@pytest.fixture
def viewer(app, admin, client):
    with app.app_context():
        user = create_user("viewer@example.test", "viewer password 123")
        Membership.create(user=user, organization=Organization.get(Organization.slug == "default"),
                          role="viewer")
    login(client, "viewer@example.test", "viewer password 123")
    return client


def token(client, path: str = PAGE) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def texts(html: str) -> list[str]:
    return [unescape(cells[1]) for cells in re.findall(
        r'<tr data-testid="annotation"><td>([^<]*)</td><td>([^<]*)</td>', html)]


def test_an_admin_adds_changes_and_deletes_notes_with_forms(app, logged_in):
    csrf = token(logged_in)
    added = logged_in.post(PAGE, data={"csrf_token": csrf, "text": "deployed <v2.3>",
                                       "at": "2026-03-08T09:30", "until": ""})
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert texts(html) == ["deployed <v2.3>"] and "&lt;v2.3&gt;" in html
    assert "Sun 8 Mar 2026 09:30 (UTC)" in html and "admin@example.test" in html
    with app.app_context():
        note = Annotation.get()
        assert (note.source, note.created_by_user_id is not None) == ("page", True)

    # with htmx: only the list comes back
    ranged = logged_in.post(PAGE, headers={"HX-Request": "true"}, data={
        "csrf_token": csrf, "text": "campaign", "at": "2026-03-01T00:00",
        "until": "2026-03-07T00:00"})
    part = ranged.get_data(as_text=True)
    assert '<section id="annotations"' in part and "<html" not in part
    assert texts(part) == ["deployed <v2.3>", "campaign"]

    edit = f"{PAGE}/{note.id}"
    changed = logged_in.post(edit, data={"csrf_token": csrf, "text": "deployed v2.4",
                                         "at": "2026-03-08T10:00", "until": "2026-03-08T11:00"})
    assert changed.status_code == 200
    assert "Sun 8 Mar 2026 10:00 to 11:00 (UTC)" in changed.get_data(as_text=True)
    assert logged_in.post(f"{edit}/delete", data={"csrf_token": csrf}).status_code == 200
    assert texts(logged_in.get(PAGE).get_data(as_text=True)) == ["campaign"]
    assert logged_in.post(f"{edit}/delete", data={"csrf_token": csrf}).status_code == 404
    assert logged_in.post(PAGE, data={"text": "no token"}).status_code == 400


def test_a_form_with_problems_says_each_and_keeps_what_was_typed(logged_in):
    csrf = token(logged_in)
    refused = logged_in.post(PAGE, data={"csrf_token": csrf, "text": "x" * 201,
                                         "at": "soon", "until": "2026-03-01T00:00"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "The note was not saved: 2 problems below." in html
    assert "1 to 200 characters" in html and "must be a date (2026-03-08)" in html
    assert 'value="soon"' in html and texts(html) == []
    reversed_range = logged_in.post(PAGE, data={"csrf_token": csrf, "text": "x",
                                                "at": "2026-03-02T00:00",
                                                "until": "2026-03-01T00:00"})
    assert "must be after startsAt" in reversed_range.get_data(as_text=True)


def test_a_viewer_sees_the_notes_and_may_not_change_them(app, client, viewer):
    assert client.post("/annotations", json={"text": "deployed v2.3"},
                       headers=ANNOTATION_HEADERS).status_code == 401  # no key made here
    with app.app_context():
        from webapp.annotations import notes
        from webapp.models import Project

        project = Project.get(Project.slug == "default")
        note = notes.create(project.id, {"text": "seen by all",
                                         "starts_at": datetime.now(UTC)}, "command")
    html = viewer.get(PAGE).get_data(as_text=True)
    assert texts(html) == ["seen by all"]
    assert "Add note" not in html and "Delete" not in html
    csrf = csrf_token(viewer.get("/").get_data(as_text=True))
    for path, data in ((PAGE, {"text": "x"}), (f"{PAGE}/{note.id}", {"text": "x", "at": ""}),
                       (f"{PAGE}/{note.id}/delete", {})):
        assert viewer.post(path, data={"csrf_token": csrf, **data}).status_code == 403
    dashboard = viewer.get("/?filter=hour").get_data(as_text=True)
    assert 'data-testid="chart-note"' in dashboard and "Add a note here" not in dashboard


def test_the_dashboard_chart_marks_notes_and_takes_a_new_one(app, logged_in):
    now = datetime.now(UTC)
    dashboard = logged_in.get("/?filter=hour").get_data(as_text=True)
    assert 'data-testid="chart-note"' not in dashboard
    form = re.search(r'<form class="inline-form card note-form".*?</form>', dashboard, re.S)[0]
    assert 'name="next" value="/?filter=hour"' in form
    stamp = re.search(r'name="at" type="datetime-local" value="([^"]+)"', form)[1]
    assert abs(datetime.fromisoformat(stamp).replace(tzinfo=UTC) - now) < timedelta(minutes=2)

    back = logged_in.post(PAGE, data={"csrf_token": csrf_token(dashboard), "text": "deployed",
                                      "at": stamp, "next": "/?filter=hour"})
    assert back.status_code == 302 and back.headers["Location"] == "/?filter=hour"
    with app.app_context():
        from webapp.annotations import notes
        from webapp.models import Project

        project = Project.get(Project.slug == "default")
        notes.create(project.id, {"text": "incident", "starts_at": now - timedelta(minutes=20),
                                  "ends_at": now - timedelta(minutes=10)}, "command")
        notes.create(project.id, {"text": "last week", "starts_at": now - timedelta(days=7)},
                     "command")
    html = logged_in.get("/?filter=hour").get_data(as_text=True)
    marks = re.findall(r'<g class="note" data-testid="chart-note"><title>([^<]*)</title>\s*'
                       r'<(rect class="note-band"|line class="note-line")', html)
    assert [(unescape(title).split(" · ")[0], shape.split()[0]) for title, shape in marks] \
        == [("deployed", "line"), ("incident", "rect")]
    assert re.search(r'<title id="chart-title">[^<]*, 2 notes</title>', html)
    assert "<caption>Notes on this chart</caption>" in html
    # a range of days on the project's clocks shows them too (yesterday too: just after
    # midnight, the incident was yesterday)
    days = f"from={(now - timedelta(days=1)).date()}&to={now.date()}"
    ranged = logged_in.get(f"/?{days}").get_data(as_text=True)
    assert ranged.count('data-testid="chart-note"') == 2
    assert logged_in.post(PAGE, data={"csrf_token": csrf_token(html), "text": "x",
                                      "next": "https://elsewhere.example/"}).headers[
        "Location"] == "/"
