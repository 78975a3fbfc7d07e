"""Board pages: a project's boards (create, rename, delete, make one the home), a board with its
live tiles, pinning a saved report to a board, and the tiles' controls (move, size, remove, a
new order from a drag). Plain forms that work without JavaScript; thin views over
webapp.boards and webapp.live.tiles."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for

from webapp.boards import boards, tiles
from webapp.errors import BadBoard
from webapp.live import tiles as live_tiles
from webapp.models import Board, Project, SavedReport, User
from webapp.reports import saved
from webapp.tenancy import accounts, policy
from webapp.tenancy.projects import Handle
from webapp.web.reports import KINDS

bp = Blueprint("boards", __name__)
NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits: str.isdigit also takes "²"


def editable(user: User, project: Project) -> bool:
    """Whether the user's role may change the project's boards (a viewer only looks)."""
    return policy.role_in(user, project.organization_id) in policy.MANAGERS


def number_of(name: str, problems: list[str], what: str) -> int | None:
    """A form field holding the number of one of the project's things (None when missing or
    not a number, the problem appended)."""
    text = request.form.get(name, "")
    if not NUMBER.fullmatch(text):
        problems.append(f"{name} must be the number of {what}, not {text[:20]!r}")
        return None
    return int(text)


def found(done: bool) -> None:
    """A change that found nothing to change: the project has no such board or tile."""
    if not done:
        abort(404)


def board_url(project: Project, board_id: int, tile_id: int | None = None) -> str:
    url = url_for("boards.board", slug=project.link, board_id=board_id)
    return url + (f"#tile-{tile_id}" if tile_id else "")


@bp.get("/projects/<project:slug>/boards")
@accounts.login_required
def index(slug: Handle):
    user, projects, project = policy.user_project(slug)
    return render_template("boards/index.html", project=project, projects=projects, user=user,
                           boards=boards.boards_for(project.id), home=boards.home_of(project.id),
                           editable=editable(user, project), kinds=KINDS, kind="boards",
                           saved_reports=saved.saved_for(project.id))


@bp.post("/projects/<project:slug>/boards")
@accounts.login_required
def create(slug: Handle):
    project = policy.managed_project(slug)
    board = boards.create(project.id, request.form.get("name", ""))
    return redirect(board_url(project, board.id))


@bp.get("/projects/<project:slug>/boards/<int:board_id>")
@accounts.login_required
def board(slug: Handle, board_id: int):
    user, projects, project = policy.user_project(slug)
    shown = boards.get(project.id, board_id)
    if shown is None:
        abort(404)
    views = live_tiles.views(project, shown.id, datetime.now(UTC), live_tiles.BUDGET_MS)
    return render_template("boards/board.html", project=project, projects=projects, user=user,
                           board=shown, views=views, editable=editable(user, project),
                           kinds=KINDS, kind="boards", sizes=tiles.SIZE_WORDS,
                           saved_reports=saved.saved_for(project.id),
                           computing=any(v.state == live_tiles.COMPUTING for v in views))


@bp.post("/projects/<project:slug>/boards/<int:board_id>/rename")
@accounts.login_required
def rename(slug: Handle, board_id: int):
    project = policy.managed_project(slug)
    found(boards.rename(project.id, board_id, request.form.get("name", "")))
    if request.form.get("back") == "board":  # renamed on the board's own page
        return redirect(board_url(project, board_id))
    return redirect(url_for("boards.index", slug=project.link))


@bp.post("/projects/<project:slug>/boards/<int:board_id>/delete")
@accounts.login_required
def delete(slug: Handle, board_id: int):
    project = policy.managed_project(slug)
    found(boards.delete(project.id, board_id))
    return redirect(url_for("boards.index", slug=project.link))


@bp.post("/projects/<project:slug>/boards/home")
@accounts.login_required
def set_home(slug: Handle):
    """The board the project's link opens; an empty `board`: the live dashboard again."""
    project = policy.managed_project(slug)
    problems: list[str] = []
    board_id = number_of("board", problems, "a board") if request.form.get("board") else None
    if problems:
        raise BadBoard(problems)
    found(boards.set_home(project.id, board_id))
    return redirect(url_for("boards.index", slug=project.link))


@bp.get("/projects/<project:slug>/boards/pin")
@accounts.login_required
def pin_page(slug: Handle):
    """Where a saved report is pinned: to which board (or a new one), and how large."""
    user, projects, project = policy.user_project(slug)
    policy.require_role(project.organization_id)
    text = request.args.get("saved_report", "")
    report = SavedReport.get_or_none(SavedReport.id == int(text),
                                     SavedReport.project == project.id) \
        if NUMBER.fullmatch(text) else None
    if report is None:
        raise BadBoard([f"saved_report must be the number of one of the project's saved "
                        f"reports, not {text[:20]!r}"])
    return render_template("boards/pin.html", project=project, projects=projects, user=user,
                           report=report, boards=boards.boards_for(project.id),
                           sizes=tiles.SIZE_WORDS, kinds=KINDS, kind="boards",
                           saved_reports=saved.saved_for(project.id))


@bp.post("/projects/<project:slug>/boards/pin")
@accounts.login_required
def pin(slug: Handle):
    """Pin a saved report to a board (`board`: its number, or "new" with `new_name`)."""
    project = policy.managed_project(slug)
    problems: list[str] = []
    report_id = number_of("saved_report", problems, "a saved report")
    size = request.form.get("size") or "small"
    problems.extend(tiles.size_problems(size))
    new = request.form.get("board") == "new"
    if new:
        problems.extend(boards.name_problems(request.form.get("new_name", "")))
        board_id = None
    else:
        board_id = number_of("board", problems, 'a board (or "new")')
    if problems:
        raise BadBoard(problems)
    if new:
        tile = tiles.pin_to_new(project.id, request.form.get("new_name", ""), report_id, size)
    else:
        tile = tiles.pin(project.id, board_id, report_id, size)
    return redirect(board_url(project, tile.board_id, tile.id))


@bp.post("/projects/<project:slug>/boards/<int:board_id>/tiles/<int:tile_id>/move")
@accounts.login_required
def move_tile(slug: Handle, board_id: int, tile_id: int):
    """One place up or down (the tile's own controls, with or without JavaScript)."""
    project = policy.managed_project(slug)
    found(tiles.move(project.id, board_id, tile_id, request.form.get("direction", "")))
    return redirect(board_url(project, board_id, tile_id))


@bp.post("/projects/<project:slug>/boards/<int:board_id>/tiles/<int:tile_id>/size")
@accounts.login_required
def size_tile(slug: Handle, board_id: int, tile_id: int):
    project = policy.managed_project(slug)
    found(tiles.resize(project.id, board_id, tile_id, request.form.get("size", "")))
    return redirect(board_url(project, board_id, tile_id))


@bp.post("/projects/<project:slug>/boards/<int:board_id>/tiles/<int:tile_id>/remove")
@accounts.login_required
def remove_tile(slug: Handle, board_id: int, tile_id: int):
    project = policy.managed_project(slug)
    found(tiles.remove(project.id, board_id, tile_id))
    return redirect(board_url(project, board_id))


@bp.post("/projects/<project:slug>/boards/<int:board_id>/order")
@accounts.login_required
def order(slug: Handle, board_id: int):
    """The tiles in a new order (`tile`, repeated, as a drag left them): 204 for the page's
    script, else back to the board."""
    project = policy.managed_project(slug)
    found(tiles.reorder(project.id, board_id, request.form.getlist("tile")))
    if request.headers.get("HX-Request"):
        return "", 204
    return redirect(board_url(project, board_id))


def shared_board(board: Board, project: Project, token: str):
    """A board as a share link shows it: its tiles, read-only, no links into pages that need
    an account (webapp/web/shares.py opens it)."""
    views = live_tiles.views(project, board.id, datetime.now(UTC), live_tiles.BUDGET_MS)
    return render_template("boards/shared.html", project=project, board=board, views=views,
                           token=token, editable=False, shared=True, sizes=tiles.SIZE_WORDS,
                           computing=any(v.state == live_tiles.COMPUTING for v in views))
