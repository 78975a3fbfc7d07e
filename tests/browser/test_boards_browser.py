"""Boards in a real browser: a saved funnel pinned to a new board, its tile updated as events
arrive; the board through a share link, logged out; the tiles arranged by keyboard alone and by
dragging; each flow with and without JavaScript where it has one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.test_dashboard_browser import log_in, post
from tests.helpers import wait_stored
from webapp.models import iso

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
AGO = datetime.now(UTC) - timedelta(minutes=3)
EVENTS = [{"eventType": "signup", "userId": "ann", "timestamp": iso(AGO)},
          {"eventType": "signup", "userId": "bob", "timestamp": iso(AGO)},
          {"eventType": "checkout", "userId": "ann", "timestamp": iso(AGO + timedelta(minutes=1))}]
FUNNEL = "step=signup&step=checkout&window=1d"
LIVE = "() => document.getElementById('live-status').textContent === 'live'"


def saved_report(app, project, name: str, kind: str = "funnel", query: str = FUNNEL) -> int:
    from webapp.reports import saved

    with app.app_context():
        return saved.save(project.id, name, kind, query).id


def board_with(app, project, names: list[str]) -> tuple[int, list[int]]:
    """A board with a breakdown tile for each name."""
    from webapp.boards import boards, tiles

    with app.app_context():
        board = boards.create(project.id, "Arranged")
        return board.id, [tiles.pin(project.id, board.id,
                                    saved_report(app, project, name, "breakdown",
                                                 "property=plan")).id for name in names]


def order(page) -> list[int]:
    return [int(t) for t in page.eval_on_selector_all("#tiles > li[data-tile]",
                                                       "tiles => tiles.map(t => t.dataset.tile)")]


def headline(page, tile: int) -> str:
    return page.get_attribute(f"#tile-body-{tile} [data-testid=tile-number]", "data-number")


def watch(page) -> list[str]:
    """The page's script errors and CSP refusals, as they happen."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    return problems


@pytest.mark.parametrize("javascript", [True, False])
def test_pin_a_saved_funnel_to_a_new_board_and_see_it_follow_events(
        chromium, live_server, app, admin, project, artifacts, javascript):
    post(live_server, EVENTS)
    wait_stored(app, 3)
    report = saved_report(app, project, "Signups to checkout")
    context = chromium.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch(page)
    log_in(page, live_server)
    page.goto(live_server.url + "/projects/default/shares")
    page.click(f"#saved-reports a[href$='saved_report={report}']")
    assert page.inner_text("h1").startswith("Pin “Signups to checkout”")
    page.check("input[name=board][value=new]")
    page.fill("input[name=new_name]", "Conversion")
    page.check("input[name=size][value=wide]")
    page.click("button:text('Pin to board')")
    page.wait_for_selector("li.tile.tile-wide")
    assert page.inner_text("h1") == "Conversion"
    (tile,) = order(page)
    assert headline(page, tile) == "1"  # ann went through, bob did not yet
    assert "50.0%" in page.inner_text(f"#tile-body-{tile} .tile-headline")
    rows = page.locator(f"#tile-body-{tile} tbody tr")
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(2)] == ["2", "1"]
    if javascript:
        page.wait_for_function(LIVE, timeout=10_000)
        page.evaluate("window.stillHere = true")  # gone if the page reloads
    post(live_server, [{"eventType": "checkout", "userId": "bob"}])
    if javascript:  # pushed over the board's stream, swapped in place
        page.wait_for_function(
            f"() => document.querySelector('#tile-body-{tile} [data-testid=tile-number]')"
            f"?.dataset.number === '2'", timeout=15_000)
        assert page.evaluate("window.stillHere") is True
    else:  # a full page shows the current numbers
        wait_stored(app, 4)
        page.reload()
    assert headline(page, tile) == "2"
    assert "100.0%" in page.inner_text(f"#tile-body-{tile} .tile-headline")
    page.screenshot(path=str(artifacts / f"board-js-{javascript}.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(artifacts / f"board-375-js-{javascript}.png"), full_page=True)
    assert problems == []
    context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_share_link_shows_the_board_logged_out(chromium, live_server, app, project,
                                                 artifacts, javascript):
    from webapp.boards import boards, tiles
    from webapp.reports import saved

    post(live_server, EVENTS)
    wait_stored(app, 3)
    with app.app_context():
        board = boards.create(project.id, "For the team")
        tile = tiles.pin(project.id, board.id,
                         saved_report(app, project, "Signups to checkout"), "wide").id
        token = saved.share(project.id, None, "open sesame", board_id=board.id)
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{live_server.url}/share/{token}")
    assert "password-protected" in page.inner_text("h1")
    page.fill("input[name=password]", "open sesame")
    page.click("button[type=submit]")
    page.wait_for_selector(f"#tile-body-{tile}")
    assert page.inner_text("h1") == "For the team"
    assert headline(page, tile) == "1"
    assert page.locator("form").count() == 0  # read-only
    assert page.locator("a[href^='/projects/']").count() == 0  # nothing that needs an account
    if javascript:
        page.wait_for_function(LIVE, timeout=10_000)
    post(live_server, [{"eventType": "checkout", "userId": "bob"}])
    if javascript:
        page.wait_for_function(
            f"() => document.querySelector('#tile-body-{tile} [data-testid=tile-number]')"
            f"?.dataset.number === '2'", timeout=15_000)
    else:
        wait_stored(app, 4)
        page.reload()
        assert headline(page, tile) == "2"
    page.screenshot(path=str(artifacts / f"shared-board-js-{javascript}.png"), full_page=True)
    page.goto(live_server.url + "/")
    assert "/login" in page.url  # the link opened that board, and nothing else
    assert problems == []
    context.close()


def tab_to(page, name: str, presses: int = 120) -> None:
    """Press Tab until the focused element's accessible text starts with `name`."""
    seen, wanted = [], "".join(name.split())
    for _ in range(presses):
        page.keyboard.press("Tab")
        text = page.evaluate("document.activeElement.innerText || document.activeElement"
                             ".getAttribute('aria-label') || ''")
        seen.append(text)
        if "".join(text.split()).startswith(wanted):  # (a hidden part starts a new line)
            return
    raise AssertionError(f"Tab never reached {name!r}: {seen}")


@pytest.mark.parametrize("javascript", [True, False])
def test_a_board_arranged_by_keyboard_alone(chromium, live_server, app, admin, project,
                                            javascript):
    board, (first, second, third) = board_with(app, project, ["One", "Two", "Three"])
    extra = saved_report(app, project, "Four", "breakdown", "property=plan")
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    problems = watch(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/projects/default/boards/{board}")
    assert order(page) == [first, second, third]
    tab_to(page, "Move down: One")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/boards/{board}#tile-{first}")
    assert order(page) == [second, first, third]
    tab_to(page, "Make Three Wide")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"li#tile-{third}.tile-wide")
    # pin a fourth report: the form's select by arrow keys, the button by Enter
    tab_to(page, "")  # anywhere in the page, then to the pin form's select
    page.focus("select[name=saved_report]")
    for _ in range(4):
        if page.eval_on_selector("select[name=saved_report]", "s => s.value") == str(extra):
            break
        page.keyboard.press("ArrowDown")
    tab_to(page, "Pin to this board")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#tiles > li').length === 4")
    assert order(page)[:3] == [second, first, third]
    tab_to(page, "Make this board the project's home")
    page.keyboard.press("Enter")
    page.wait_for_url("**/boards")
    page.goto(live_server.url + "/")  # the project's link now opens the board
    assert re.search(rf"/boards/{board}$", page.url)
    assert problems == []
    context.close()


def test_a_tile_is_dragged_to_its_place_and_stays_there(chromium, live_server, app, admin,
                                                        project):
    board, (first, second, third) = board_with(app, project, ["One", "Two", "Three"])
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems = watch(page)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/projects/default/boards/{board}")
    with page.expect_response(lambda r: r.url.endswith(f"/boards/{board}/order")) as saved:
        page.drag_and_drop(f"#tile-{third} .tile-head", f"#tile-{first} .tile-head")
    assert saved.value.status == 204
    assert order(page) == [third, first, second]
    assert page.is_disabled(f"#tile-{third} button[data-move=up]")  # now first
    assert not page.is_disabled(f"#tile-{second} button[data-move=up]")
    page.reload()
    assert order(page) == [third, first, second]  # stored
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click(f"#tile-{first} button:text('Remove')")
    page.wait_for_function("() => document.querySelectorAll('#tiles > li').length === 2")
    assert asked == ["Remove One from this board? The saved report stays."]
    assert order(page) == [third, second]
    assert problems == []
    page.close()


def test_every_kind_of_tile_reads_in_both_themes(chromium, live_server, app, admin, project,
                                                 artifacts):
    from webapp.boards import boards, tiles

    post(live_server, EVENTS + [
        {"eventType": "signup", "userId": "cy", "metadata": {"plan": "pro"}},
        {"eventType": "checkout", "userId": "cy", "metadata": {"plan": "pro", "amount": 30}}])
    wait_stored(app, 5)
    reports = [("Signups to checkout", "funnel", FUNNEL, "small"),
               ("Signups and checkouts", "trends",
                "A=signup&B=checkout&formula=B / A * 100&interval=day&range=7d&compare=previous",
                "wide"),
               ("Coming back", "retention", "start=signup&return=checkout", "tall"),
               ("After signing up", "paths", "event=signup", "small"),
               ("Plans", "breakdown", "property=plan", "small")]
    with app.app_context():
        board = boards.create(project.id, "Every kind")
        for name, kind, query, size in reports:
            tiles.pin(project.id, board.id, saved_report(app, project, name, kind, query), size)
    for scheme in ("light", "dark"):
        context = chromium.new_context(color_scheme=scheme, viewport={"width": 1280,
                                                                      "height": 900})
        page = context.new_page()
        problems = watch(page)
        log_in(page, live_server)
        page.goto(f"{live_server.url}/projects/default/boards/{board.id}")
        assert page.locator("[data-state=ready]").count() == len(reports)
        ids = page.eval_on_selector_all("[id]", "found => found.map(e => e.id)")
        assert len(ids) == len(set(ids))  # every tile's ids its own
        for chart in page.locator("svg[role=img]").all():  # each chart named by its title
            title = chart.get_attribute("aria-labelledby")
            assert page.text_content(f"[id='{title}']").startswith("Trend per day")
        assert page.locator(".tile-bars[aria-label]").count() == 3
        page.screenshot(path=str(artifacts / f"board-every-kind-{scheme}.png"), full_page=True)
        assert problems == []
        context.close()
