"""The dashboard in a real browser: it logs in, watches events arrive live, works without JS."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, INGEST_HEADERS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]


def post(server, events) -> float:
    request = urllib.request.Request(server.url + "/webhook", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json",
                                              **INGEST_HEADERS})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
    return time.monotonic()


def log_in(page, server):
    page.goto(server.url + "/")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#counters")


def snapshot(page) -> dict:
    return {
        "total": page.inner_text("[data-testid=total]"),
        "chart": page.get_attribute("#chart svg", "data-total"),
        "top": page.inner_text("#top-types"),
        "recent": page.inner_text("#recent"),
    }


def wait_for_change(page, before: dict, keys, deadline: float) -> dict:
    while True:
        now = snapshot(page)
        if all(now[key] != before[key] for key in keys):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"no live update of {keys} in time: {now}")
        page.wait_for_timeout(20)


def test_dashboard_updates_live_within_a_second(chromium, live_server, admin, artifacts):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server)
    deadline = time.monotonic() + 10
    while page.inner_text("#live-status") != "live":
        assert time.monotonic() < deadline, "the stream never opened"
        page.wait_for_timeout(20)
    before = snapshot(page)
    page.screenshot(path=str(artifacts / "dashboard-before.png"), full_page=True)
    posted = post(live_server, [{"eventType": t, "userId": f"user-{i}", "metadata": {"i": i}}
                                for i, t in enumerate(["checkout"] * 6 + ["search"] * 3)])
    after = wait_for_change(page, before, ("total", "chart", "top", "recent"), posted + 1.0)
    assert after["total"] == "9"
    assert "checkout" in after["top"] and "66.67%" in after["top"]
    page.screenshot(path=str(artifacts / "dashboard-after.png"), full_page=True)
    # a second burst shows up too, without a reload
    posted = post(live_server, [{"eventType": "refund", "userId": "user-1"}])
    later = wait_for_change(page, after, ("total",), posted + 1.0)
    assert later["total"] == "10"
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(artifacts / "dashboard-375.png"), full_page=True)
    assert errors == []
    page.close()


def test_escaped_text_shows_literally_and_runs_nothing(chromium, live_server, admin):
    page = chromium.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server)
    while page.inner_text("#live-status") != "live":
        page.wait_for_timeout(20)
    nasty = "<script>alert('x')</script> \"q\" &amp;"
    post(live_server, {"eventType": "xss", "userId": nasty,
                       "metadata": {"html": "<img src=x onerror=alert(1)>"}})
    deadline = time.monotonic() + 5
    while nasty not in page.inner_text("#recent"):  # pushed over SSE, shown as text
        assert time.monotonic() < deadline
        page.wait_for_timeout(20)
    assert "<img src=x onerror=alert(1)>" in page.inner_text("#recent")
    page.reload()
    assert nasty in page.inner_text("#recent")  # and in a full render
    assert dialogs == []
    page.close()


def test_works_without_javascript(chromium, live_server, admin, artifacts):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    post(live_server, [{"eventType": "nojs", "userId": "u"}] * 2)
    log_in(page, live_server)
    deadline = time.monotonic() + 5
    while page.inner_text("[data-testid=total]") != "2":
        assert time.monotonic() < deadline, "a full page render should show current data"
        page.reload()
    page.click("nav.filters >> text=Week")
    assert "filter=week" in page.url
    assert page.get_attribute("nav.filters a[aria-current=page]", "href").endswith("filter=week")
    assert page.inner_text("[data-testid=total]") == "2"
    page.screenshot(path=str(artifacts / "dashboard-no-js.png"), full_page=True)
    context.close()
