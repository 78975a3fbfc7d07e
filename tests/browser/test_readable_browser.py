"""Report pages as people meet them, in Chromium: every page reached from the dashboard by its
links (with and without JavaScript), retention's grid coloured in the browser under the app's
own CSP (light and dark), a funnel built from the suggested event types, and the same flows by
keyboard alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.test_dashboard_browser import log_in, post
from tests.browser.test_trends_browser import watch_console
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, wait_stored
from webapp.models import iso

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
REPORTS = {"Funnel": "funnel", "Retention": "retention", "Paths": "paths",
           "Breakdown": "breakdown", "Trends": "trends"}
NOW = datetime.now(UTC)
# Today's signups and checkouts (the pages' default range holds them), with a plan.
RECENT = [{"eventType": "signup", "userId": "ann", "metadata": {"plan": "pro"},
           "timestamp": iso(NOW - timedelta(hours=3))},
          {"eventType": "signup", "userId": "bob", "metadata": {"plan": "free"},
           "timestamp": iso(NOW - timedelta(hours=2))},
          {"eventType": "checkout", "userId": "ann",
           "timestamp": iso(NOW - timedelta(hours=1, minutes=20))},
          {"eventType": "view", "userId": "ann", "timestamp": iso(NOW - timedelta(minutes=5))}]
# Two cohorts of a November week: Monday's two users (one back on Tuesday), Tuesday's one.
WEEK = "from=2026-11-02&to=2026-11-04"
COHORTS = [{"eventType": "signup", "userId": "ann", "timestamp": "2026-11-02T08:00:00Z"},
           {"eventType": "signup", "userId": "eve", "timestamp": "2026-11-02T12:00:00Z"},
           {"eventType": "view", "userId": "ann", "timestamp": "2026-11-03T09:00:00Z"},
           {"eventType": "signup", "userId": "bob", "timestamp": "2026-11-03T10:00:00Z"}]


def nav_link(page, text: str):
    return page.locator("nav.site-nav").get_by_role("link", name=text, exact=True)


@pytest.mark.parametrize("javascript", [True, False])
def test_every_page_is_reached_from_the_dashboard_by_links(chromium, live_server, app, admin,
                                                           artifacts, javascript):
    post(live_server, RECENT)
    wait_stored(app, len(RECENT))
    context = chromium.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server)
    for text, kind in REPORTS.items():
        nav_link(page, text).click()
        page.wait_for_url(f"**/projects/default/reports/{kind}")
        assert nav_link(page, text).get_attribute("aria-current") == "page"
        assert "Time zone: UTC" in page.inner_text("nav.site-nav")
        assert page.locator("form.report-form").count() == 1
        nav_link(page, "Dashboard").click()  # and back, the way it came
        page.wait_for_selector("#counters")
    # a user's timeline, from the recent events and from the navigation's form
    page.click("#recent td.user >> text=ann")
    page.wait_for_url("**/users?id=ann")
    assert "checkout" in page.inner_text("#timeline")
    page.fill("nav.site-nav input[name=id]", "bob")
    page.click("nav.site-nav button:text('Open')")
    page.wait_for_url("**/users?id=bob")
    assert page.inner_text("#timeline h1") == "User bob"
    for text, path, landmark in (("Share links", "/projects/default/shares", "#shares"),
                                 ("Manage", "/manage/projects/default", "#keys"),
                                 ("Dashboard", "/?project=default", "#counters")):
        nav_link(page, text).click()
        page.wait_for_url(f"**{path}")
        page.wait_for_selector(landmark)
    boards = nav_link(page, "Boards").get_attribute("href")
    assert boards == "/projects/default/boards"  # the boards' pages, built apart
    page.screenshot(path=str(artifacts / f"navigation-js-{javascript}.png"), full_page=True)
    assert errors == []
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_retention_grid_is_coloured_in_the_browser_under_the_csp(chromium, live_server,
                                                                     app, admin, artifacts,
                                                                     scheme):
    post(live_server, COHORTS)
    wait_stored(app, len(COHORTS))
    context = chromium.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server)
    answer = page.goto(f"{live_server.url}/projects/default/reports/retention?start=signup"
                       f"&periods=3&{WEEK}")
    assert "style-src 'self'" in answer.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" not in answer.headers["content-security-policy"]
    grid = page.locator("table.retention-grid")
    grid.wait_for()

    def cell(row: int, period: int):
        return grid.locator("tbody tr").nth(row).locator("td").nth(1 + period)

    def background(locator) -> str:
        return locator.evaluate("e => getComputedStyle(e).backgroundColor")

    full, half, none = cell(0, 0), cell(0, 1), cell(0, 2)  # Monday: 100%, 50%, 0%
    assert (full.inner_text(), half.inner_text(), none.inner_text()) == (
        "2 (100.0%)", "1 (50.0%)", "0 (0.0%)")
    colours = [background(c) for c in (full, half, none)]
    assert len(set(colours)) == 3, colours  # each share its own colour
    assert background(cell(1, 0)) == colours[0]  # Tuesday's 100% as Monday's
    card = page.locator("#report-result").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colours[2] == card  # no share, no colour
    # the stronger the share, the further from the card's colour (light) or nearer the
    # accent (dark): the grid reads as a heat map either way
    distances = [page.evaluate(
        """([a, b]) => { const n = s => s.match(/\\d+/g).slice(0, 3).map(Number);
           const [x, y] = [n(a), n(b)]; return Math.hypot(...x.map((v, i) => v - y[i])); }""",
        [c, card]) for c in colours]
    assert distances[0] > distances[1] > distances[2] == 0
    page.screenshot(path=str(artifacts / f"retention-{scheme}.png"), full_page=True)
    assert errors == []  # nothing refused by the CSP
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_funnel_is_built_from_the_suggested_event_types(chromium, live_server, app, admin,
                                                          artifacts, javascript):
    post(live_server, RECENT)
    wait_stored(app, len(RECENT))
    context = chromium.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server)
    nav_link(page, "Funnel").click()
    first = page.locator("input[name=step]").nth(0)
    offered = first.evaluate(
        "e => Array.from(e.list.options).map(o => [o.value, o.textContent])")
    assert dict(offered) == {"signup": "2 events in the last 30 days",
                             "checkout": "1 event in the last 30 days",
                             "view": "1 event in the last 30 days"}
    assert offered[0][0] == "signup"  # the most frequent first
    if javascript:  # the list follows what is typed
        first.press_sequentially("che")
        page.wait_for_function(
            "() => document.querySelectorAll('#event-types option').length == 1")
        offered = first.evaluate("e => Array.from(e.list.options).map(o => o.value)")
        assert offered == ["checkout"]
        first.fill("")
    first.fill(page.evaluate("document.querySelector('#event-types option').value")
               if not javascript else "signup")
    page.locator("input[name=step]").nth(1).fill("checkout")
    page.locator("input[name=breakdown]").fill("plan")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("#report-result svg.funnel-chart")
    steps = page.locator("#report-result table.report-table").first
    assert steps.locator("tbody tr").nth(1).inner_text().split("\t")[:3] == [
        "2. checkout", "1", "50.0%"]
    assert steps.locator("tbody tr").nth(1).locator("td").nth(4).inner_text() == "1 h 40 min"
    name = page.locator("svg.funnel-chart title#funnel-title").text_content()
    assert name.startswith("Funnel of 2 steps: 1 of 2 users (50.0%) went from signup to "
                           "checkout within 7 d")
    assert page.locator("svg.funnel-chart rect.bar.previous").count() == 2
    assert page.locator("svg.bars-chart").count() == 1  # the conversion by plan
    page.screenshot(path=str(artifacts / f"funnel-readable-js-{javascript}.png"),
                    full_page=True)
    context.close()


def tab_to(page, what: str, most: int = 80) -> None:
    """Tab until the focused element is `what` (a CSS selector); only keys, no clicks."""
    for _ in range(most):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", what):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{what} not reached by Tab")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_flows_work_by_keyboard_alone(chromium, live_server, app, admin, artifacts,
                                          javascript):
    post(live_server, RECENT + COHORTS)
    wait_stored(app, len(RECENT) + len(COHORTS))
    context = chromium.new_context(java_script_enabled=javascript, locale="en-US",
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/")
    tab_to(page, "#email")
    page.keyboard.type(ADMIN_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#counters")
    # the dashboard's navigation to the funnel, its steps typed, run with Enter
    tab_to(page, "nav.site-nav a[href$='/reports/funnel']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports/funnel")
    tab_to(page, "input[name=step]")
    page.keyboard.type("signup")
    tab_to(page, "fieldset.step:nth-of-type(2) input[name=step]")
    page.keyboard.type("checkout")
    page.keyboard.press("Enter")
    page.wait_for_selector("#report-result svg.funnel-chart")
    assert "1 of 2 users (50.0%) went from signup to checkout" in page.inner_text(
        "#report-result")
    # on to retention by the navigation, a preset range picked by keys
    tab_to(page, "nav.site-nav a[href$='/reports/retention']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports/retention")
    tab_to(page, "input[name=start]")
    page.keyboard.type("signup")
    tab_to(page, "input[name=from]")
    page.keyboard.type("11022026")  # a date field takes its digits in the locale's order
    tab_to(page, "input[name=to]")  # past the date field's own calendar button
    page.keyboard.type("11042026")
    page.keyboard.press("Enter")
    page.wait_for_selector("table.retention-grid")
    assert page.locator("table.retention-grid tbody tr").first.locator("th").inner_text() == \
        "Mon 2 Nov 2026"
    # a user's timeline by id, from the navigation's form
    tab_to(page, "nav.site-nav input[name=id]")
    page.keyboard.type("ann")
    page.keyboard.press("Enter")
    page.wait_for_url("**/users?id=ann")
    assert page.inner_text("#timeline h1") == "User ann"
    page.screenshot(path=str(artifacts / f"keyboard-js-{javascript}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("kind", ["funnel", "retention", "paths", "breakdown"])
def test_each_result_fits_a_phone_in_the_dark(chromium, live_server, app, admin, artifacts,
                                              kind):
    post(live_server, COHORTS + [{"eventType": "view", "userId": f"u{i}",
                                  "metadata": {"plan": ("pro", "free", "team")[i % 3]},
                                  "timestamp": f"2026-11-03T12:{i:02d}:00Z"}
                                 for i in range(30)])
    wait_stored(app, len(COHORTS) + 30)
    query = {"funnel": "step=signup&step=view&breakdown=plan",
             "retention": "start=signup&periods=3", "paths": "event=signup",
             "breakdown": "property=plan"}[kind]
    context = chromium.new_context(color_scheme="dark", viewport={"width": 375, "height": 800})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/projects/default/reports/{kind}?{query}&{WEEK}")
    page.wait_for_selector("#report-result table")
    # the page itself never scrolls sideways: wide charts and tables scroll in their own box
    page.screenshot(path=str(artifacts / f"{kind}-375-dark.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    charts = page.locator("#report-result svg[role=img]")
    for i in range(charts.count()):  # each chart named, and followed by its numbers
        name = charts.nth(i).get_attribute("aria-labelledby")
        assert page.locator(f"title#{name}").text_content()
    if kind != "retention":
        assert charts.count() >= 1
    page.screenshot(path=str(artifacts / f"{kind}-375-dark.png"), full_page=True)
    assert errors == []
    context.close()
