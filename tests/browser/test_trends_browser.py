"""Trends in a real browser: two series and a formula built in the form with and without
JavaScript, the compared period's dashed line, DST days' 23 and 25 hours, a result that keeps up
with arriving events, and a saved trend's share link opened logged out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.test_dashboard_browser import log_in, post
from tests.helpers import wait_stored
from webapp.models import iso

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
PAGE = "/projects/default/reports/trends"
# A day in the project's zone (UTC): three signups and two checkouts, and one signup the day
# before, for the compared period.
EVENTS = [{"eventType": "signup", "userId": "ann", "timestamp": "2026-03-10T09:05:00Z"},
          {"eventType": "signup", "userId": "bob", "timestamp": "2026-03-10T09:30:00Z"},
          {"eventType": "signup", "userId": "cy", "timestamp": "2026-03-10T15:00:00Z"},
          {"eventType": "checkout", "userId": "ann", "timestamp": "2026-03-10T09:45:00Z"},
          {"eventType": "checkout", "userId": "cy", "timestamp": "2026-03-10T15:20:00Z"},
          {"eventType": "signup", "userId": "dee", "timestamp": "2026-03-09T12:00:00Z"}]
DAY = "from=2026-03-10&to=2026-03-10&interval=hour"


def watch_console(page) -> list[str]:
    """Errors the page logs: a refused inline style (the CSP) or a script error."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def totals(page) -> dict[str, str]:
    rows = page.locator("table.trend-totals tbody tr")
    return {rows.nth(i).locator("th").inner_text().split(":")[0]:
            rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())}


@pytest.mark.parametrize("javascript", [True, False])
def test_build_a_trend_of_two_series_and_a_formula_in_the_form(chromium, live_server, app,
                                                               admin, artifacts, javascript):
    post(live_server, EVENTS)
    wait_stored(app, len(EVENTS))
    context = chromium.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server)
    page.goto(live_server.url + PAGE)
    if javascript:
        page.evaluate("window.stillHere = true")  # gone if the page reloads
    page.fill("input[name=A]", "signup")
    page.fill("input[name=B]", "checkout")
    page.select_option("select[name='B.measure']", label="unique users")
    page.fill("input[name=formula]", "B / A * 100")
    page.select_option("select[name=interval]", "hour")
    page.fill("form.report-form input[name=from]", "2026-03-10")
    page.fill("form.report-form input[name=to]", "2026-03-10")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("#report-result svg.trend-chart", timeout=10_000)
    assert page.get_attribute("#report-result svg.trend-chart", "data-points") == "24"
    assert totals(page) == {"A": "3", "B": "2", "Formula": "66.666667"}
    assert page.locator("svg.trend-chart g[data-key=A] circle").count() == 24
    assert page.locator("svg.trend-chart g[data-key=formula] circle").count() == 2  # B / 0: gaps
    hover = page.locator("svg.trend-chart g[data-key=A] circle").nth(9).locator("title")
    assert hover.text_content() == "Tue 10 Mar 09:00 (UTC) · A: signup · 2 events"
    name = page.get_attribute("svg.trend-chart", "aria-labelledby")
    assert "A: signup (events), total 3" in page.text_content(f"#{name}")
    row = page.locator("table.trend-table tbody tr").nth(9)
    assert row.inner_text().split("\t") == ["Tue 10 Mar 09:00", "2", "1", "50"]
    asked = parse_qs(urlparse(page.url).query)
    assert (asked["A"], asked["B"], asked["formula"]) == (["signup"], ["checkout"],
                                                          ["B / A * 100"])
    if javascript:  # swapped in place by htmx, the address kept in step
        assert page.evaluate("window.stillHere") is True
    a, b = (page.locator(f"svg.trend-chart g[data-key={k}] path.line").first for k in "AB")
    assert a.evaluate("e => getComputedStyle(e).stroke") != \
        b.evaluate("e => getComputedStyle(e).stroke")  # each series its colour, from classes
    page.screenshot(path=str(artifacts / f"trend-js-{javascript}.png"), full_page=True)
    assert errors == []
    context.close()


def test_the_compared_period_is_a_dashed_line_of_the_same_colour(chromium, live_server, app,
                                                                  admin, artifacts):
    post(live_server, EVENTS)
    wait_stored(app, len(EVENTS))
    context = chromium.new_context()
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}{PAGE}?A=signup&{DAY}")
    page.select_option("select[name=compare]", label="the previous period")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("svg.trend-chart g.compare path.line", timeout=10_000)
    now, before = (page.locator(f"svg.trend-chart g[data-key='{key}'] path.line").first
                   for key in ("A", "A compare"))
    style = "e => [getComputedStyle(e).stroke, getComputedStyle(e).strokeDasharray]"
    (now_colour, now_dashes), (before_colour, before_dashes) = (
        now.evaluate(style), before.evaluate(style))
    assert now_colour == before_colour and now_dashes == "none" and before_dashes != "none"
    assert "(+200.0%)" in page.inner_text("ul.legend")
    assert "dashed: the previous period" in page.inner_text("ul.legend")
    page.screenshot(path=str(artifacts / "trend-compare.png"), full_page=True)
    assert errors == []
    context.close()


def test_dst_days_have_23_and_25_hourly_points_in_the_chart_and_the_table(chromium,
                                                                           live_server, app,
                                                                           admin, project):
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, "Europe/Berlin")
    # 01:30 and 03:30 local on the spring day; the repeated 02:30, once at each offset, in
    # the autumn
    post(live_server, [
        {"eventType": "signup", "userId": "a", "timestamp": "2026-03-29T00:30:00Z"},
        {"eventType": "signup", "userId": "b", "timestamp": "2026-03-29T01:30:00Z"},
        {"eventType": "signup", "userId": "c", "timestamp": "2026-10-25T00:30:00Z"},
        {"eventType": "signup", "userId": "d", "timestamp": "2026-10-25T01:30:00Z"}])
    wait_stored(app, 4)
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, live_server)
    for day, hours, rows in (
            ("2026-03-29", 23, [("Sun 29 Mar 01:00", "1"), ("Sun 29 Mar 03:00", "1")]),
            ("2026-10-25", 25, [("Sun 25 Oct 02:00 +02:00", "1"),
                                ("Sun 25 Oct 02:00 +01:00", "1")])):
        page.goto(f"{live_server.url}{PAGE}?A=signup&from={day}&to={day}&interval=hour")
        assert page.get_attribute("svg.trend-chart", "data-points") == str(hours)
        assert page.locator("svg.trend-chart g[data-key=A] circle").count() == hours
        body = page.locator("table.trend-table tbody tr")
        assert body.count() == hours + 1  # and the totals
        shown = [body.nth(i).inner_text().split("\t") for i in range(hours)]
        assert [tuple(row) for row in shown if row[1] != "0"] == rows
        assert "Hour (Europe/Berlin)" in page.inner_text("table.trend-table thead")
    context.close()


def test_a_trend_run_from_the_form_keeps_up_with_arriving_events(chromium, live_server, app,
                                                                 admin):
    now = datetime.now(UTC) - timedelta(minutes=2)
    post(live_server, [{"eventType": "signup", "userId": "ann", "timestamp": iso(now)}])
    wait_stored(app, 1)
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + PAGE)
    page.fill("input[name=A]", "signup")
    page.select_option("select[name=range]", "7d")
    page.click("form.report-form button[type=submit]")
    page.wait_for_selector("svg.trend-chart", timeout=10_000)
    assert totals(page) == {"A": "1"}
    page.wait_for_timeout(500)  # the stream is open
    post(live_server, [{"eventType": "signup", "userId": "bob"}])
    page.wait_for_function(
        "() => document.querySelector('table.trend-totals tbody td')?.innerText === '2'",
        timeout=15_000)
    assert "range=7d" in page.url
    context.close()


def test_a_saved_trend_shared_by_link_renders_logged_out(chromium, live_server, app, project,
                                                         artifacts):
    post(live_server, EVENTS)
    wait_stored(app, len(EVENTS))
    with app.app_context():
        from webapp.reports import saved

        report = saved.save(project.id, "Signups and checkouts", "trends",
                            f"A=signup&B=checkout&formula=B / A&{DAY}&compare=previous"
                            "&display=bar")
        token = saved.share(project.id, report.id)
    context = chromium.new_context(color_scheme="dark", viewport={"width": 390, "height": 844})
    page = context.new_page()  # a phone in the dark: the dark palette, the chart to its width
    errors = watch_console(page)
    page.goto(f"{live_server.url}/share/{token}")
    assert page.inner_text("h1").startswith("Signups and checkouts")
    # A and B each hour, the formula where A is not 0 (B / 0 is no value)
    assert page.locator("svg.trend-chart.bar rect.bar").count() == 24 + 24 + 2
    assert page.locator("svg.trend-chart g.compare").count() == 3
    assert totals(page) == {"A": "3", "B": "2", "Formula": "0.666667"}
    assert page.locator("form.report-form").count() == 0
    assert page.locator("table.trend-table tbody tr").count() == 25
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page fits;
    assert page.locator("svg.trend-chart").bounding_box()["width"] >= 640  # the chart scrolls
    bar = page.locator("svg.trend-chart g[data-key=A] rect.bar").first
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(96, 165, 250)"  # --s0, dark
    page.screenshot(path=str(artifacts / "trend-shared-dark-phone.png"), full_page=True)
    assert errors == []
    page.goto(live_server.url + "/")
    assert "/login" in page.url  # the link opened that view, and nothing else
    context.close()
