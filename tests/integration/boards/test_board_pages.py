"""Board pages: boards made, renamed, made the project's home and deleted; saved reports pinned
as tiles that show their results; the tiles' controls; every bad input a clear 4xx."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.helpers import READ_HEADERS, csrf_token, sql_scalar
from tests.integration.web.test_reports_routes import history  # noqa: F401 (fixture)

FUNNEL = "step=signup&step=view&step=buy&window=1h"
BREAKDOWN = "property=plan"
TREND = "A=view&interval=day&range=7d"


@pytest.fixture
def csrf(logged_in) -> str:
    return csrf_token(logged_in.get("/projects/default/boards").get_data(as_text=True))


def save(app, project, name: str, kind: str, query: str) -> int:
    from webapp.reports import saved

    with app.app_context():
        return saved.save(project.id, name, kind, query).id


def make_board(logged_in, csrf: str, name: str) -> int:
    made = logged_in.post("/projects/default/boards", data={"csrf_token": csrf, "name": name})
    assert made.status_code == 302, made.get_data(as_text=True)
    return int(re.search(r"/boards/(\d+)$", made.location).group(1))


def pin(logged_in, csrf: str, board_id: int, report_id: int, size: str = "small") -> int:
    pinned = logged_in.post("/projects/default/boards/pin",
                            data={"csrf_token": csrf, "board": str(board_id),
                                  "saved_report": str(report_id), "size": size})
    assert pinned.status_code == 302, pinned.get_data(as_text=True)
    return int(re.search(r"#tile-(\d+)$", pinned.location).group(1))


def tile_order(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="tile [^"]*" id="tile-(\d+)"', page)]


def test_a_board_is_made_renamed_made_home_and_deleted(app, logged_in, project, csrf):
    assert "the live dashboard" in logged_in.get("/projects/default/boards").get_data(True)
    board_id = make_board(logged_in, csrf, "  Growth ")
    page = logged_in.get(f"/projects/default/boards/{board_id}")
    assert page.status_code == 200
    assert "<h1>Growth" in page.get_data(as_text=True)
    assert 'data-testid="no-tiles"' in page.get_data(as_text=True)
    rename = f"/projects/default/boards/{board_id}/rename"
    assert logged_in.post(rename, data={"csrf_token": csrf, "name": "Growth team"}).status_code \
        == 302
    assert "Growth team" in logged_in.get("/projects/default/boards").get_data(as_text=True)
    # the project's link opens its home board once it has one, the dashboard before and after
    assert logged_in.get("/?project=default").status_code == 200
    home = logged_in.post("/projects/default/boards/home",
                          data={"csrf_token": csrf, "board": str(board_id)})
    assert home.status_code == 302
    for link in ("/?project=default", "/"):
        opened = logged_in.get(link)
        assert opened.status_code == 302, link
        assert opened.location.endswith(f"/projects/default/boards/{board_id}")
    dashboard = logged_in.get("/?project=default&filter=hour")  # the dashboard itself
    assert dashboard.status_code == 200 and 'id="counters"' in dashboard.get_data(True)
    assert "the board Growth team" in logged_in.get("/projects/default/boards").get_data(True)
    second = make_board(logged_in, csrf, "Second")
    logged_in.post("/projects/default/boards/home", data={"csrf_token": csrf,
                                                          "board": str(second)})
    assert sql_scalar(app, "SELECT count(*) FROM board WHERE is_home") == 1  # one home
    assert logged_in.get("/").location.endswith(f"/boards/{second}")
    logged_in.post("/projects/default/boards/home", data={"csrf_token": csrf, "board": ""})
    assert logged_in.get("/").status_code == 200  # the dashboard again
    deleted = logged_in.post(f"/projects/default/boards/{board_id}/delete",
                             data={"csrf_token": csrf})
    assert deleted.status_code == 302 and deleted.location.endswith("/projects/default/boards")
    assert logged_in.get(f"/projects/default/boards/{board_id}").status_code == 404
    assert logged_in.post(f"/projects/default/boards/{board_id}/delete",
                          data={"csrf_token": csrf}).status_code == 404


def test_a_pinned_report_shows_its_result_as_the_api_computes_it(app, client, logged_in,
                                                                 project, csrf,
                                                                 history):  # noqa: F811
    report_id = save(app, project, "Signup to buy", "funnel", FUNNEL)
    shares = logged_in.get("/projects/default/shares").get_data(as_text=True)
    assert f"/projects/default/boards/pin?saved_report={report_id}" in shares
    form = logged_in.get(f"/projects/default/boards/pin?saved_report={report_id}")
    assert form.status_code == 200 and "Pin “Signup to buy”" in form.get_data(as_text=True)
    made = logged_in.post("/projects/default/boards/pin",
                          data={"csrf_token": csrf, "saved_report": str(report_id),
                                "board": "new", "new_name": "Conversion", "size": "wide"})
    assert made.status_code == 302
    board_id = int(re.search(r"/boards/(\d+)#tile-\d+$", made.location).group(1))
    page = unescape(logged_in.get(f"/projects/default/boards/{board_id}").get_data(True))
    steps = client.get(f"/reports/funnel?{FUNNEL}", headers=READ_HEADERS).get_json()["data"][
        "steps"]
    assert 'class="tile tile-wide"' in page and "Signup to buy" in page
    for step in steps:  # each step's users and conversion, in words, as the API has them
        assert (f"{step['step']}. {step['eventType']}</th><td class=\"number\">"
                f"{step['users']:,}</td><td class=\"number\">"
                f"{step['conversionFromFirst']:,.1f}%</td>") in page
    headline = f"{steps[-1]['conversionFromFirst']:.1f}%"
    assert re.search(rf'data-number="{steps[-1]["users"]}">{re.escape(headline)}</strong>',
                     page)
    assert '<ol class="tile-bars" aria-label="Users at each step of the funnel">' in page
    # the saved report's own page offers to pin it
    report_page = logged_in.get(f"/projects/default/reports/funnel?{FUNNEL}").get_data(True)
    assert f"/boards/pin?saved_report={report_id}" in report_page


def test_each_kind_of_report_draws_as_a_tile(app, logged_in, project, csrf,
                                             history):  # noqa: F811
    board_id = make_board(logged_in, csrf, "Everything")
    queries = {"funnel": FUNNEL, "retention": "start=signup&return=view",
               "paths": "event=signup", "breakdown": BREAKDOWN, "trends": TREND}
    for kind, query in queries.items():
        pin(logged_in, csrf, board_id, save(app, project, f"The {kind}", kind, query))
    page = logged_in.get(f"/projects/default/boards/{board_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('data-state="ready"') == len(queries)
    assert 'role="img" aria-labelledby="tile-' in html  # the trend's chart has a name
    assert len(set(re.findall(r' id="([^"]+)"', html))) == len(re.findall(r' id="', html))
    assert "style=" not in html  # the CSP allows no inline styles


def test_tiles_move_change_size_and_go(app, logged_in, project, csrf, history):  # noqa: F811
    board_id = make_board(logged_in, csrf, "Order")
    tiles = [pin(logged_in, csrf, board_id, save(app, project, f"R{i}", "breakdown",
                                                 BREAKDOWN)) for i in range(3)]
    base = f"/projects/default/boards/{board_id}"
    page = logged_in.get(base).get_data(as_text=True)
    assert tile_order(page) == tiles
    moved = logged_in.post(f"{base}/tiles/{tiles[0]}/move",
                           data={"csrf_token": csrf, "direction": "down"})
    assert moved.status_code == 302 and moved.location.endswith(f"#tile-{tiles[0]}")
    assert tile_order(logged_in.get(base).get_data(True)) == [tiles[1], tiles[0], tiles[2]]
    logged_in.post(f"{base}/tiles/{tiles[1]}/move", data={"csrf_token": csrf,
                                                          "direction": "up"})  # at the top
    logged_in.post(f"{base}/tiles/{tiles[2]}/move", data={"csrf_token": csrf,
                                                          "direction": "up"})
    assert tile_order(logged_in.get(base).get_data(True)) == [tiles[1], tiles[2], tiles[0]]
    # a drag's new order: 204 for the page's script, back to the board without it
    order = {"csrf_token": csrf, "tile": [str(tiles[0]), str(tiles[1]), str(tiles[2])]}
    assert logged_in.post(f"{base}/order", data=order,
                          headers={"HX-Request": "true"}).status_code == 204
    assert tile_order(logged_in.get(base).get_data(True)) == tiles
    order["tile"].reverse()
    assert logged_in.post(f"{base}/order", data=order).status_code == 302
    assert tile_order(logged_in.get(base).get_data(True)) == tiles[::-1]
    sized = logged_in.post(f"{base}/tiles/{tiles[1]}/size", data={"csrf_token": csrf,
                                                                  "size": "tall"})
    assert sized.status_code == 302
    page = logged_in.get(base).get_data(as_text=True)
    assert f'class="tile tile-tall" id="tile-{tiles[1]}"' in page
    assert logged_in.post(f"{base}/tiles/{tiles[1]}/remove",
                          data={"csrf_token": csrf}).status_code == 302
    assert tile_order(logged_in.get(base).get_data(True)) == [tiles[2], tiles[0]]
    assert sql_scalar(app, "SELECT count(*) FROM saved_report") == 3  # the reports stay
    assert logged_in.post(f"{base}/tiles/{tiles[1]}/remove",
                          data={"csrf_token": csrf}).status_code == 404


def test_bad_input_is_refused_with_every_problem(app, logged_in, project, csrf):
    board_id = make_board(logged_in, csrf, "Strict")
    report_id = save(app, project, "Plans", "breakdown", BREAKDOWN)
    tile_id = pin(logged_in, csrf, board_id, report_id)
    base = f"/projects/default/boards/{board_id}"
    cases = [
        ("/projects/default/boards", {"name": " "}, ["give the board a name"]),
        ("/projects/default/boards", {"name": "x" * 201}, ["at most 200 characters"]),
        (f"{base}/rename", {"name": ""}, ["give the board a name"]),
        ("/projects/default/boards/pin", {"board": "²", "saved_report": "x", "size": "huge"},
         ["saved_report must be the number", "board must be the number", "one of small, wide"]),
        ("/projects/default/boards/pin", {"board": str(board_id), "saved_report": "999999"},
         ["no such saved report in this project"]),
        ("/projects/default/boards/pin", {"board": "999999", "saved_report": str(report_id)},
         ["no such board in this project"]),
        ("/projects/default/boards/pin", {"board": "new", "new_name": "",
                                          "saved_report": str(report_id)},
         ["give the board a name"]),
        ("/projects/default/boards/pin", {"board": "new", "new_name": "Orphan",
                                          "saved_report": "999999"},
         ["no such saved report in this project"]),
        (f"{base}/tiles/{tile_id}/size", {"size": "enormous"}, ["one of small, wide, tall"]),
        (f"{base}/tiles/{tile_id}/move", {"direction": "sideways"}, ["moves up or down"]),
        (f"{base}/order", {"tile": ["1x"]}, ["a tile's number"]),
        (f"{base}/order", {"tile": [str(tile_id), str(tile_id)]}, ["each of the board's 1"]),
        ("/projects/default/boards/home", {"board": "-1"}, ["board must be the number"]),
    ]
    for path, form, problems in cases:
        answer = logged_in.post(path, data={"csrf_token": csrf, **form})
        text = unescape(answer.get_data(as_text=True))
        assert answer.status_code == 400, (path, form, answer.status_code)
        for problem in problems:
            assert problem in text, (path, form, problem, text)
    assert sql_scalar(app, "SELECT count(*) FROM board") == 1  # "Orphan" was never made
    assert logged_in.get("/projects/default/boards/pin?saved_report=abc").status_code == 400
    assert logged_in.get("/projects/default/boards/pin?saved_report=999").status_code == 400
    for path in (f"{base}/tiles/{tile_id}/move", f"{base}/rename"):
        assert logged_in.post(path, data={"direction": "up", "name": "x"}).status_code == 400


def test_a_saved_report_that_no_longer_runs_says_why_on_its_tile(app, logged_in, project,
                                                                 csrf):
    from webapp.models import SavedReport

    board_id = make_board(logged_in, csrf, "Broken")
    report_id = save(app, project, "Broken", "funnel", FUNNEL)
    pin(logged_in, csrf, board_id, report_id)
    with app.app_context():  # saved before its query was checked as it is now
        SavedReport.update(query="step=signup&window=forever").where(
            SavedReport.id == report_id).execute()
    page = logged_in.get(f"/projects/default/boards/{board_id}")
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert 'data-state="broken"' in text and "2 to 8 steps" in text
    assert '"window" must look like' in text


def test_a_viewer_sees_boards_but_cannot_change_them(app, client, logged_in, project, csrf):
    from tests.helpers import login
    from webapp.models import Membership
    from webapp.tenancy.accounts import create_user

    board_id = make_board(logged_in, csrf, "Look only")
    report_id = save(app, project, "Plans", "breakdown", BREAKDOWN)
    tile_id = pin(logged_in, csrf, board_id, report_id)
    with app.app_context():
        viewer = create_user("viewer@example.test", "viewer password 123")
        Membership.create(user=viewer, organization=project.organization_id, role="viewer")
    viewing = app.test_client()
    login(viewing, "viewer@example.test", "viewer password 123")
    page = viewing.get(f"/projects/default/boards/{board_id}").get_data(as_text=True)
    assert f'id="tile-{tile_id}"' in page
    assert "Move up" not in page and "Pin to this board" not in page
    assert "Create board" not in viewing.get("/projects/default/boards").get_data(True)
    token = csrf_token(viewing.get("/?filter=hour").get_data(as_text=True))  # (logging out)
    base = f"/projects/default/boards/{board_id}"
    for path, form in (("/projects/default/boards", {"name": "Mine"}),
                       (f"{base}/rename", {"name": "Mine"}), (f"{base}/delete", {}),
                       ("/projects/default/boards/home", {"board": str(board_id)}),
                       ("/projects/default/boards/pin", {"board": str(board_id),
                                                         "saved_report": str(report_id)}),
                       (f"{base}/tiles/{tile_id}/move", {"direction": "up"}),
                       (f"{base}/tiles/{tile_id}/size", {"size": "wide"}),
                       (f"{base}/tiles/{tile_id}/remove", {}),
                       (f"{base}/order", {"tile": str(tile_id)})):
        assert viewing.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    assert viewing.get(f"/projects/default/boards/pin?saved_report={report_id}").status_code \
        == 403
    assert sql_scalar(app, "SELECT count(*) FROM board_tile") == 1
