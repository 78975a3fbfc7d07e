"""The main flows by keyboard alone (Tab, Enter, Space and typing), with and without JavaScript:
log in, open a report from the reports' nav, run it, save it; every stop of the keyboard on the
way shows where it is (a :focus-visible ring)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest

from tests.browser.test_dashboard_browser import post
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, sql_scalar, wait_stored
from webapp.models import iso

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
AGO = datetime.now(UTC) - timedelta(hours=2)
EVENTS = [{"eventType": "signup", "userId": user, "timestamp": iso(AGO)}
          for user in ("ann", "bob", "cy")]
# What has focus, whether it matches `selector`, and whether its focus ring shows (a date
# input's picker button has the focus within the input).
FOCUS = """selector => {
    const e = document.activeElement;
    const style = getComputedStyle(e);
    return {html: e.outerHTML.slice(0, 160), matches: e.matches(selector),
            ring: e.matches(':focus-visible, :focus-within') && style.outlineStyle !== 'none'
                  && parseFloat(style.outlineWidth) >= 2};
}"""


def tab_to(page, selector: str, limit: int = 150) -> None:
    """Press Tab until the element `selector` names has focus; the focus shows at every stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = page.evaluate(FOCUS, selector)
        assert now["ring"], f"no visible focus on {now['html']}"
        if now["matches"]:
            return
    raise AssertionError(f"{selector} never had focus in {limit} presses of Tab")


@pytest.mark.parametrize("javascript", [True, False])
def test_log_in_open_run_and_save_a_report_by_keyboard_alone(chromium, live_server, app, admin,
                                                             artifacts, javascript):
    post(live_server, EVENTS)
    wait_stored(app, len(EVENTS))
    context = chromium.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login?next=/projects/default/reports/funnel")

    page.keyboard.press("Tab")  # the first stop skips the header, and shows itself
    assert page.evaluate(FOCUS, "a.skip-link")["matches"]
    assert page.locator("a.skip-link").bounding_box()["width"] > 20
    tab_to(page, "#email")
    page.keyboard.type(ADMIN_EMAIL)
    tab_to(page, "#password")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlparse(url).path == "/projects/default/reports/funnel")

    tab_to(page, "nav[aria-label=Project] a[href$='/reports/trends']")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlparse(url).path == "/projects/default/reports/trends")
    if javascript:
        page.evaluate("window.stillHere = true")  # gone if running it reloads the page
    tab_to(page, "input[name=A]")
    page.keyboard.type("signup")
    tab_to(page, "form.report-form button[type=submit]")
    page.keyboard.press("Space")
    page.wait_for_selector("#report-result svg.trend-chart", timeout=10_000)
    assert "A=signup" in page.url
    assert page.locator("table.trend-totals tbody td").first.inner_text() == "3"
    if javascript:  # run in place by htmx
        assert page.evaluate("window.stillHere") is True

    tab_to(page, "#report-result input[name=name]")
    page.keyboard.type("Signups, by keyboard")
    page.keyboard.press("Enter")
    page.wait_for_selector("nav[aria-label='Saved reports'] >> text=Signups, by keyboard")
    assert sql_scalar(app, "SELECT query FROM saved_report WHERE name = %s",
                      ("Signups, by keyboard",)).startswith("A=signup")
    page.screenshot(path=str(artifacts / f"keyboard-js-{javascript}.png"), full_page=True)
    context.close()


def test_the_skip_link_moves_the_keyboard_past_the_header(chromium, live_server, app, admin):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/login#main")
    tab_to(page, "*")  # the next stop is in the page's content, not the header
    assert page.evaluate("document.activeElement.closest('main') !== null")
    context.close()
