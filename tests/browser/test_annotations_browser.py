"""Notes in a real browser: one posted by a deploy script appears on an open dashboard's chart
without a reload, "add a note here" adds another, and the notes page edits one in place."""

from __future__ import annotations

import pytest
import requests

from tests.browser.test_dashboard_browser import log_in
from tests.helpers import ANNOTATION_HEADERS, ANNOTATION_KEY

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]


@pytest.fixture
def note_key(app, project):
    from webapp.tenancy.tenants import create_key

    with app.app_context():
        create_key(project, "annotate", "deploy", ANNOTATION_KEY)


def test_notes_reach_the_chart_live_and_are_edited_in_place(chromium, live_server, admin,
                                                            note_key, artifacts):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        check(page, live_server, artifacts)
    finally:
        page.close()  # its stream would stay open for the tests after this one


def check(page, live_server, artifacts):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server)
    page.wait_for_selector("#live-status:text('live')", timeout=10_000)
    assert page.locator("[data-testid=chart-note]").count() == 0

    posted = requests.post(live_server.url + "/annotations", json={"text": "deployed v2.3"},
                           headers=ANNOTATION_HEADERS, timeout=10)
    assert posted.status_code == 201
    # the push redraws the chart with the note's line: no reload
    page.wait_for_selector("#chart [data-testid=chart-note]", timeout=10_000)
    title = page.text_content("#chart [data-testid=chart-note] title")
    assert title.startswith("deployed v2.3 · ") and title.endswith("(UTC)")
    assert "Notes on this chart" in page.inner_html("#chart")

    page.fill("form.note-form input[name=text]", "campaign started")
    page.click("form.note-form button:text('Add note')")
    page.wait_for_function("document.querySelectorAll('#chart [data-testid=chart-note]')"
                           ".length === 2", timeout=10_000)
    assert page.url.startswith(live_server.url + "/")
    page.screenshot(path=str(artifacts / "annotations-dashboard.png"))

    page.click("a:text('All notes')")
    page.wait_for_selector("[data-testid=annotation]")
    row = page.locator("[data-testid=annotation]", has_text="campaign started")
    row.locator("summary").click()
    row.locator("input[name=text]").fill("campaign ended")
    page.fill("#annotations input[name=text] >> nth=0", "")  # the new-note form stays empty
    row.locator("button:text('Save')").click()
    page.wait_for_selector("[data-testid=annotation]:has-text('campaign ended')")
    assert "/annotations" in page.url  # swapped in place by htmx, no navigation
    page.screenshot(path=str(artifacts / "annotations-page.png"), full_page=True)
    assert errors == []
