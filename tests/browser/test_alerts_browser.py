"""Alert rules in a real browser: the htmx form lists its problems in place, a saved rule
shows its secret once, and a firing rule lights the dashboard's badge live."""

from __future__ import annotations

import pytest

from tests.browser.test_dashboard_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]


def test_add_a_rule_and_see_it_fire_live(chromium, live_server, admin, receiver, artifacts):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        check(page, live_server, receiver, artifacts)
    finally:
        page.close()  # its stream would stay open for the tests after this one


def check(page, live_server, receiver, artifacts):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server)
    dashboard = page.url
    page.goto(live_server.url + "/manage/projects/default")

    page.fill("#alerts input[name=name]", "No signups")
    page.fill("#alerts input[name=when]", "signup fewer than 1")
    page.fill("#alerts input[name=url]", receiver.url)
    page.click("#alerts button:text('Add rule')")
    page.wait_for_selector("#alerts .error[role=alert]")  # swapped in place by htmx
    assert "write the condition as" in page.inner_text("#alerts").lower()
    assert page.url.endswith("/manage/projects/default")  # no navigation
    assert page.input_value("#alerts input[name=name]") == "No signups"  # kept

    page.fill("#alerts input[name=when]", "signup < 1 in 5 min")
    page.click("#alerts button:text('Add rule')")
    secret = page.wait_for_selector("[data-testid=alert-secret]").inner_text()
    assert secret.startswith("whsec_")
    assert "signup < 1 in 5 min" in page.inner_text("[data-testid=alert-rule]")

    page.screenshot(path=str(artifacts / "alerts-manage.png"), full_page=True)
    page.goto(dashboard)
    page.wait_for_selector("#live-status:text('live')", timeout=10_000)
    # nothing arrives: the periodic check fires the rule and the badge changes without reload
    page.wait_for_selector("[data-testid=alert-badge][data-firing='1']", timeout=10_000)
    assert "1 alert firing" in page.inner_text("#alert-badge")
    assert "No signups" in page.inner_text("#alerts-panel")
    page.screenshot(path=str(artifacts / "alerts-dashboard.png"))
    assert errors == []


def test_a_rule_on_a_saved_trend_from_the_keyboard(chromium, live_server, app, project, admin,
                                                    receiver, artifacts):
    from webapp.reports import saved

    with app.app_context():
        report = saved.save(project.id, "Revenue per signup", "trends",
                            "A=purchase&A.measure=sum&A.property=amount&B=signup"
                            "&formula=A / B&interval=day&range=30d")
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        log_in(page, live_server)
        page.goto(live_server.url + "/manage/projects/default")
        assert f"“Revenue per signup” (number {report.id}: A, B, formula)" in page.inner_text(
            "[data-testid=alert-trends]")
        page.focus("#alerts input[name=name]")
        page.keyboard.type("Revenue spike")
        page.keyboard.press("Tab")
        page.keyboard.type('trend "Revenue" formula spike')
        page.fill("#alerts input[name=url]", receiver.url)
        page.focus("#alerts input[name=url]")
        page.keyboard.press("Enter")  # submits the form, htmx swaps it in place
        page.wait_for_selector("#alerts .error[role=alert]")
        assert ('No saved trend named "Revenue" in this project (its saved trends: "Revenue '
                'per signup")') in page.inner_text("#alerts")
        page.fill("#alerts input[name=when]", f"trend {report.id} formula spike")
        page.focus("#alerts input[name=url]")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-testid=alert-secret]")
        assert 'trend "Revenue per signup" formula spike' in page.inner_text(
            "[data-testid=alert-rule]")
        page.screenshot(path=str(artifacts / "alerts-trend-rule.png"), full_page=True)
    finally:
        page.close()
