"""Boards and tiles stay within their project: another organization's boards are not found,
another project's board, tile, saved report or share link is never reached through this
project's pages, and the schema itself refuses a tile or a link that would join two projects."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from tests.helpers import csrf_token, login, sql_scalar
from webapp.models import Membership

BREAKDOWN = "property=plan"


@pytest.fixture
def two_projects(app, admin, project):
    """The default project and "other" (the admin manages both), and organization beta's
    project with its owner; each with a board holding one tile."""
    from webapp.boards import boards, tiles
    from webapp.reports import saved
    from webapp.tenancy.accounts import create_user
    from webapp.tenancy.tenants import create_organization, create_project

    made = {}
    with app.app_context():
        other = create_project(project.organization, "Other shop", "other")
        organization = create_organization("Beta Corp", "beta")
        beta = create_project(organization, "Beta shop", "beta-shop")
        owner = create_user("owner@beta.test", "beta owner password")
        Membership.create(user=owner, organization=organization, role="owner")
        for name, each in (("default", project), ("other", other), ("beta", beta)):
            report = saved.save(each.id, f"{name} plans", "breakdown", BREAKDOWN)
            board = boards.create(each.id, f"{name} board")
            made[name] = {"project": each, "report": report.id, "board": board.id,
                          "tile": tiles.pin(each.id, board.id, report.id).id}
    return made


def test_another_projects_boards_and_tiles_are_not_found_through_this_one(
        app, logged_in, two_projects):
    csrf = csrf_token(logged_in.get("/projects/default/boards").get_data(as_text=True))
    theirs = two_projects["other"]
    base = f"/projects/default/boards/{theirs['board']}"
    assert logged_in.get(base).status_code == 404
    assert logged_in.get(f"/projects/other/boards/{theirs['board']}").status_code == 200
    for path, form in ((f"{base}/rename", {"name": "mine now"}), (f"{base}/delete", {}),
                       (f"{base}/tiles/{theirs['tile']}/move", {"direction": "up"}),
                       (f"{base}/tiles/{theirs['tile']}/size", {"size": "wide"}),
                       (f"{base}/tiles/{theirs['tile']}/remove", {}),
                       (f"{base}/order", {"tile": str(theirs["tile"])}),
                       ("/projects/default/boards/home", {"board": str(theirs["board"])})):
        assert logged_in.post(path, data={"csrf_token": csrf, **form}).status_code == 404, path
    # this project's board, the other's tile
    ours = two_projects["default"]
    mixed = f"/projects/default/boards/{ours['board']}/tiles/{theirs['tile']}"
    for action, form in (("move", {"direction": "up"}), ("size", {"size": "tall"}),
                         ("remove", {})):
        assert logged_in.post(f"{mixed}/{action}",
                              data={"csrf_token": csrf, **form}).status_code == 404, action
    refused = logged_in.post("/projects/default/boards/pin", data={
        "csrf_token": csrf, "board": str(ours["board"]), "saved_report": str(theirs["report"])})
    assert refused.status_code == 400
    assert "no such saved report in this project" in refused.get_data(as_text=True)
    refused = logged_in.post("/projects/default/boards/pin", data={
        "csrf_token": csrf, "board": str(theirs["board"]), "saved_report": str(ours["report"])})
    assert "no such board in this project" in refused.get_data(as_text=True)
    assert logged_in.get("/projects/default/boards/pin?saved_report="
                         f"{theirs['report']}").status_code == 400
    shared = logged_in.post("/projects/default/shares",
                            data={"csrf_token": csrf, "board": str(theirs["board"])})
    assert shared.status_code == 400
    assert "no such board in this project" in shared.get_data(as_text=True)
    assert sql_scalar(app, "SELECT name FROM board WHERE id = %s",
                      (theirs["board"],)) == "other board"
    assert sql_scalar(app, "SELECT count(*) FROM board_tile") == 3
    assert sql_scalar(app, "SELECT count(*) FROM share_link") == 0
    listed = logged_in.get("/projects/default/boards").get_data(as_text=True)
    assert "default board" in listed and "other board" not in listed


def test_another_organizations_boards_do_not_exist_for_a_user(app, client, logged_in,
                                                               two_projects):
    beta = two_projects["beta"]
    for path in ("/projects/beta/beta-shop/boards",
                 f"/projects/beta/beta-shop/boards/{beta['board']}",
                 f"/projects/default/boards/{beta['board']}"):
        assert logged_in.get(path).status_code == 404, path
    stranger = app.test_client()
    login(stranger, "owner@beta.test", "beta owner password")
    ours = two_projects["default"]
    assert stranger.get(f"/projects/default/boards/{ours['board']}").status_code == 404
    assert stranger.get(f"/projects/beta/beta-shop/boards/{ours['board']}").status_code == 404
    page = stranger.get(f"/projects/beta/beta-shop/boards/{beta['board']}")
    assert page.status_code == 200 and "beta plans" in page.get_data(as_text=True)
    assert "default plans" not in page.get_data(as_text=True)


def test_the_schema_refuses_a_tile_or_a_link_joining_two_projects(app, two_projects):
    from webapp.db import database
    from webapp.models import BoardTile, ShareLink

    ours, theirs = two_projects["default"], two_projects["beta"]
    with app.app_context():
        for values in ({"board": theirs["board"], "saved_report": ours["report"]},
                       {"board": ours["board"], "saved_report": theirs["report"]}):
            with pytest.raises(IntegrityError), database.atomic():
                BoardTile.create(project=ours["project"].id, position=9, **values)
        with pytest.raises(IntegrityError), database.atomic():
            ShareLink.create(project=ours["project"].id, board=theirs["board"],
                             token_hash="0" * 64)
        with pytest.raises(IntegrityError), database.atomic():  # one view a link
            ShareLink.create(project=ours["project"].id, board=ours["board"],
                             saved_report=ours["report"], token_hash="1" * 64)
    assert sql_scalar(app, "SELECT count(*) FROM board_tile") == 3
