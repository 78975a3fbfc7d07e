"""Saving reports, managing share links, and the public read-only view a link opens (the
dashboard, a saved report or a board)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.datastructures import MultiDict

from webapp.errors import BadReport, BrokenSavedReport, TooSlow
from webapp.ingest.limits import limiter
from webapp.live.panels import panel_data
from webapp.live.publish import board_channel
from webapp.live.stream import stream as live_stream
from webapp.models import Board, Project, SavedReport
from webapp.reads.windows import WINDOWS
from webapp.reports import jobs, params, saved
from webapp.reports.definition import time_limit
from webapp.tenancy import accounts, policy
from webapp.tenancy.projects import Handle
from webapp.web.boards import shared_board
from webapp.web.reports import KINDS, drawing_of, page_problems, table_of

bp = Blueprint("shares", __name__)
SHARE_WAIT_SECONDS = 5  # a shared report the workers compute: how long its page waits for it
NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits: str.isdigit also takes "²"


@bp.after_request
def _not_kept(response):
    """Nothing of a share (a link's page, its stream, the page that shows a new link once)
    is kept by a browser or a proxy: a revoked link's page must not live on in a cache."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def query_problems(kind: str, query: str, project: Project) -> list[str]:
    """What is wrong with a report's query, found as running it would, without running it."""
    args, problems = MultiDict(parse_qsl(query)), []
    params.scope(args, project.id, project.time_zone, datetime.now(UTC), problems)
    params.build(kind, args, problems)
    return problems + page_problems(kind, args)


@bp.post("/projects/<project:slug>/reports/<kind>/save")
@accounts.login_required
def save_report(slug: Handle, kind: str):
    _, _, project = policy.user_project(slug)
    query = request.form.get("query", "")
    try:
        if kind in KINDS and (problems := query_problems(kind, query, project)):
            raise BadReport(problems)
        saved.save(project.id, request.form.get("name", ""), kind, query)
    except BadReport as exc:
        abort(400, "; ".join(exc.problems))
    return redirect(url_for("report_pages.report_page", slug=slug, kind=kind) + "?" + query)


def _shares_page(project: Project, new_link: str | None = None, status: int = 200):
    return render_template("reports/shares.html", project=project, kinds=KINDS,
                           saved_reports=saved.saved_for(project.id),
                           links=saved.links_for(project.id), new_link=new_link), status


def _back_to_shares(slug: Handle, found: bool):
    """Back to the shares page after a change; 404 when there was nothing to change."""
    if not found:
        abort(404)
    return redirect(url_for("shares.shares", slug=slug))


@bp.get("/projects/<project:slug>/shares")
@accounts.login_required
def shares(slug: Handle):
    return _shares_page(policy.managed_project(slug))


@bp.post("/projects/<project:slug>/shares")
@accounts.login_required
def create_share(slug: Handle):
    """A new link to the dashboard, to a saved report (`saved_report`) or to a board
    (`board`)."""
    project = policy.managed_project(slug)
    target = request.form.get("saved_report") or None
    board = request.form.get("board") or None
    problems = []
    if target is not None and not NUMBER.fullmatch(target):
        problems.append(f"saved_report must be the number of a saved report, not "
                        f"{target[:20]!r}")
    if board is not None and not NUMBER.fullmatch(board):
        problems.append(f"board must be the number of a board, not {board[:20]!r}")
    if target is not None and board is not None:
        problems.append("a link shows one view: give a saved report or a board, not both")
    if problems:
        abort(400, "; ".join(problems))
    try:
        token = saved.share(project.id, int(target) if target else None,
                            request.form.get("password", ""),
                            board_id=int(board) if board else None)
    except BadReport as exc:
        abort(400, "; ".join(exc.problems))
    return _shares_page(project, url_for("shares.shared", token=token, _external=True))


@bp.post("/projects/<project:slug>/shares/<int:link_id>/revoke")
@accounts.login_required
def revoke_share(slug: Handle, link_id: int):
    project = policy.managed_project(slug)
    return _back_to_shares(slug, saved.revoke(project.id, link_id))


@bp.post("/projects/<project:slug>/saved-reports/<int:report_id>/rename")
@accounts.login_required
def rename_saved_report(slug: Handle, report_id: int):
    project = policy.managed_project(slug)
    try:
        found = saved.rename(project.id, report_id, request.form.get("name", ""))
    except BadReport as exc:
        abort(400, "; ".join(exc.problems))
    return _back_to_shares(slug, found)


@bp.post("/projects/<project:slug>/saved-reports/<int:report_id>/delete")
@accounts.login_required
def delete_saved_report(slug: Handle, report_id: int):
    project = policy.managed_project(slug)
    return _back_to_shares(slug, saved.delete(project.id, report_id))


def _window():
    return WINDOWS.get(request.args.get("filter") or "day", WINDOWS["day"])


@bp.get("/share/<token>/stream")
def shared_stream(token: str):
    """Server-sent events of a shared dashboard (the project's live panels) or board (its
    tiles), to anyone holding a live link to it (and, for a protected one, who unlocked it in
    this browser). The stream ends within a few seconds of the link being revoked."""
    link = saved.live_link(token)
    if link is None or link.saved_report_id is not None:
        abort(404)
    if link.password_hash is not None and link.id not in session.get("shares", []):
        abort(403)
    name = board_channel(link.board_id) if link.board_id is not None else _window().name
    body = live_stream(link.project_id, name, ("share", link.id, link.project_id),
                       policy.still_allowed)
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                             "Connection": "close"})


@bp.route("/share/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def shared(token: str):
    """What a link shows, to anyone holding it: one dashboard or one saved report, read-only."""
    link = saved.live_link(token)
    if link is None:
        abort(404)
    unlocked = session.get("shares", [])
    if link.password_hash is not None and link.id not in unlocked:
        wrong = False
        if request.method == "POST":
            if saved.unlocks(link, request.form.get("password", "")):
                session["shares"] = [*unlocked, link.id][-50:]
                return redirect(url_for("shares.shared", token=token))
            wrong = True
        return render_template("reports/share_password.html", wrong=wrong), 403 if wrong else 200
    project = Project.get_by_id(link.project_id)
    if link.board_id is not None:
        board = Board.get_or_none(Board.id == link.board_id, Board.project == project.id)
        if board is None:  # deleted since the link was read
            abort(404)
        return shared_board(board, project, token)
    if link.saved_report_id is None:
        window = _window()
        context = panel_data(project.id, window, datetime.now(UTC))
        context["project_slug"] = None  # no links into pages that need an account
        return render_template("reports/shared_dashboard.html", project=project, token=token,
                               **context)
    report = SavedReport.get_or_none(SavedReport.id == link.saved_report_id)
    if report is None:  # deleted since the link was read
        abort(404)
    try:
        data = _report_data(project, report)
    except BadReport as exc:  # saved before a rule it breaks
        raise BrokenSavedReport(exc.problems) from None
    if data is None:  # still computing: the page asks again shortly
        html = render_template("reports/shared_report.html", project=project, report=report,
                               kind=report.kind, data=None)
        return html, 503, {"Retry-After": "5", "Refresh": "5"}
    return render_template("reports/shared_report.html", project=project, report=report,
                           kind=report.kind, data=data, table=table_of(report.kind, data),
                           drawing=drawing_of(report.kind, data, saved.args_of(report)),
                           problems=[], query=None)


def _report_data(project: Project, report: SavedReport) -> dict | None:
    """A saved report's result, as the API's reports run: here within REPORT_INLINE_MS, else
    by the workers, waited for up to SHARE_WAIT_SECONDS (None when not done by then)."""
    args = saved.args_of(report)
    try:
        with time_limit(current_app.config["REPORT_INLINE_MS"]):
            return params.run(report.kind, args, project.id, project.time_zone,
                              datetime.now(UTC))
    except TooSlow:
        pass
    celery = current_app.extensions["celery"]
    job = jobs.start(celery, project.id, report.kind, urlencode(list(args.items(multi=True))))
    return jobs.wait(celery, job, SHARE_WAIT_SECONDS)
