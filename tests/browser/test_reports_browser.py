"""Reports in a real browser: a funnel built in the page with and without JavaScript, and a
share link opened logged out."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.test_dashboard_browser import log_in, post
from tests.conftest import start_gunicorn, stop_process
from tests.helpers import wait_stored
from webapp.models import iso

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
AGO = datetime.now(UTC) - timedelta(minutes=3)
EVENTS = [{"eventType": "signup", "userId": "ann", "timestamp": iso(AGO)},
          {"eventType": "signup", "userId": "bob", "timestamp": iso(AGO)},
          {"eventType": "checkout", "userId": "ann", "timestamp": iso(AGO + timedelta(minutes=1))}]


@pytest.mark.parametrize("javascript", [True, False])
def test_build_a_funnel_in_the_page(chromium, live_server, app, admin, artifacts, javascript):
    post(live_server, EVENTS)
    wait_stored(app, 3)
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + "/projects/default/reports/funnel")
    if javascript:
        page.evaluate("window.stillHere = true")  # gone if the page reloads
    steps = page.locator("input[name=step]")
    steps.nth(0).fill("signup")
    steps.nth(1).fill("checkout")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("#report-result table", timeout=10_000)
    rows = page.locator("#report-result tbody tr")  # a step's name, then its users
    assert rows.nth(0).locator("td").nth(0).inner_text() == "2"
    assert rows.nth(1).locator("td").nth(0).inner_text() == "1"
    assert "step=signup" in page.url and "step=checkout" in page.url
    if javascript:  # swapped in place by htmx, the address kept in step
        assert page.evaluate("window.stillHere") is True
    page.screenshot(path=str(artifacts / f"funnel-js-{javascript}.png"), full_page=True)
    context.close()


def test_a_share_link_opens_logged_out_and_shows_only_that_view(chromium, live_server, app,
                                                                 project):
    post(live_server, EVENTS)
    wait_stored(app, 3)
    with app.app_context():
        from webapp.reports import saved

        report = saved.save(project.id, "Signups to checkout", "funnel",
                            "step=signup&step=checkout&window=1d")
        token = saved.share(project.id, report.id)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/share/{token}")
    assert page.inner_text("h1").startswith("Signups to checkout")
    assert page.locator("#report-result tbody tr").count() == 2
    assert page.locator("form.report-form").count() == 0
    page.goto(live_server.url + "/")
    assert "/login" in page.url  # the link opened that view, and nothing else
    context.close()


def test_a_shared_dashboard_opens_logged_out_and_stays_live(chromium, live_server, app,
                                                            project, artifacts):
    post(live_server, EVENTS)
    wait_stored(app, 3)
    with app.app_context():
        from webapp.reports import saved

        token = saved.share(project.id, None)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/share/{token}")
    total = page.locator("[data-testid=total]")
    assert total.inner_text() == "3"
    post(live_server, [{"eventType": "view", "userId": f"u{i}"} for i in range(4)])
    deadline = time.monotonic() + 10  # pushed over the link's stream, no reload
    while total.inner_text() != "7" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert total.inner_text() == "7"
    assert page.locator("form").count() == 0
    links = page.locator("a[href^='/projects/']").all()  # the pushed panels' user links
    assert links and all(link.evaluate("e => getComputedStyle(e).pointerEvents") == "none"
                         for link in links)  # read as text: their pages need an account
    page.screenshot(path=str(artifacts / "shared-dashboard.png"), full_page=True)
    context.close()


@pytest.fixture
def slow_server(services, app, worker):
    """gunicorn where every report page is "too slow" to run inline (1 ms)."""
    server = start_gunicorn(services, REPORT_INLINE_MS="1")
    yield server
    stop_process(server.process)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_long_report_shows_progress_then_its_result(chromium, slow_server, app, admin,
                                                      artifacts, javascript):
    post(slow_server, EVENTS)
    wait_stored(app, 3)
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, slow_server)
    first = page.goto(slow_server.url + "/projects/default/reports/funnel?step=signup"
                      "&step=checkout&mode=strict")
    assert "takes a while" in first.text()  # the first answer: the job's progress
    page.wait_for_selector("#report-result table", timeout=30_000)
    rows = page.locator("#report-result tbody tr")
    assert [rows.nth(i).locator("td").nth(0).inner_text() for i in range(2)] == ["2", "1"]
    page.screenshot(path=str(artifacts / f"long-report-js-{javascript}.png"), full_page=True)
    context.close()


def test_a_dst_day_in_the_project_zone_has_25_hourly_buckets(chromium, live_server, app,
                                                             admin, project):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "America/New_York")
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, live_server)
    for day, hours in (("2026-11-01", "25"), ("2026-03-08", "23")):
        page.fill("form.range input[name=from]", day)
        page.fill("form.range input[name=to]", day)
        page.select_option("form.range select[name=bucket]", "hour")
        page.click("form.range button[type=submit]")
        page.wait_for_url(f"**from={day}**")
        assert page.get_attribute("#chart svg", "data-buckets") == hours
        assert "America/New_York" in page.inner_text("#chart h2")
    context.close()


def test_a_report_over_a_range_that_includes_now_updates_live(chromium, live_server, app,
                                                              admin):
    post(live_server, EVENTS)
    wait_stored(app, 3)
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + "/projects/default/reports/funnel?step=signup&step=checkout")
    second_step = page.locator("#report-result tbody tr").nth(1).locator("td").nth(0)
    assert second_step.inner_text() == "1"
    page.wait_for_timeout(500)  # the stream is open
    post(live_server, [{"eventType": "checkout", "userId": "bob"}])
    page.wait_for_function(
        "() => document.querySelectorAll('#report-result tbody tr')[1]"
        "?.querySelectorAll('td')[0]?.innerText === '2'", timeout=15_000)
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_saved_report_is_renamed_then_deleted_with_its_link(chromium, live_server, app,
                                                              admin, project, javascript):
    with app.app_context():
        from webapp.reports import saved

        report = saved.save(project.id, "Signups", "funnel", "step=signup&step=checkout")
        token = saved.share(project.id, report.id)
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + "/projects/default/shares")
    page.fill("#saved-reports input[name=name]", "Signups to checkout")
    page.click("#saved-reports button:text('Rename')")
    page.wait_for_selector("#saved-reports input[value='Signups to checkout']")
    assert "funnel: Signups to checkout" in page.inner_text("#shares")
    if javascript:  # asked first; declining keeps the report
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.click("#saved-reports button:text('Delete')")
        assert asked == ["Delete Signups to checkout? Its share links stop working."]
        page.wait_for_timeout(300)
        assert page.locator("#saved-reports tbody tr").count() == 1
        page.once("dialog", lambda dialog: dialog.accept())
    page.click("#saved-reports button:text('Delete')")
    page.wait_for_selector("#saved-reports p.empty")
    assert page.url.endswith("/projects/default/shares")
    assert "Signups to checkout" not in page.inner_text("main")
    assert context.new_page().goto(f"{live_server.url}/share/{token}").status == 404
    context.close()
