"""Reports over HTTP: JSON under the read token, CSV downloads, and the project's pages (plain
forms that htmx enhances). Thin views over webapp.reports."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from webapp.errors import BadQuery, BadReport, ReportFailed, StillRunning, TooSlow
from webapp.models import Project, iso
from webapp.reads import filters
from webapp.reads.events import parse_limit
from webapp.reads.ranges import parse_range
from webapp.reports import (
    jobs,
    params,
    pathsvg,
    reportsvg,
    reportwords,
    saved,
    tables,
    timeline,
    trendsvg,
    trendwords,
)
from webapp.reports.definition import Scope, time_limit
from webapp.responses import ok
from webapp.tenancy import accounts, policy
from webapp.tenancy.projects import Handle
from webapp.web import conditions, nav, suggest

bp = Blueprint("reports", __name__)
pages = Blueprint("report_pages", __name__)
KINDS = tuple(params.MODULES)
KIND = f"any({', '.join(KINDS)}):kind"  # one documented operation per kind


def api_report(kind: str, project_id: int) -> dict:
    """A report for the API. One that answers within REPORT_INLINE_MS is computed here; a
    longer one by the workers (as the pages' long reports are), while this request waits up to
    REPORT_WAIT_SECONDS for it. So the web processes never hold a large report's columns."""
    zone = Project.time_zone_of(project_id)
    try:
        with time_limit(current_app.config["REPORT_INLINE_MS"]):
            return params.run(kind, request.args, project_id, zone, datetime.now(UTC))
    except TooSlow:
        pass
    celery = current_app.extensions["celery"]
    job = jobs.start(celery, project_id, kind, urlencode(list(request.args.items(multi=True))))
    deadline = time.monotonic() + current_app.config["REPORT_WAIT_SECONDS"]
    while time.monotonic() < deadline:
        state = jobs.state(celery, job)
        if state == "done":
            data = jobs.result(celery, job)
            if data is None:
                raise ReportFailed()
            return data
        if state in (None, "failed"):
            raise ReportFailed()
        time.sleep(0.05)
    raise StillRunning()


@bp.get(f"/reports/<{KIND}>")
def report_json(kind: str):
    return ok(api_report(kind, policy.read_project_id()))


@bp.get(f"/reports/<{KIND}>.csv")
def report_csv(kind: str):
    data = api_report(kind, policy.read_project_id())
    return Response(tables.as_csv(kind, data), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})


def user_timeline(args, project_id: int, user_id: str) -> dict:
    """A user's timeline; `from`/`to` bound it only when given."""
    problems: list[str] = []
    zone = Project.time_zone_of(project_id)
    start = end = None
    if args.get("from") or args.get("to"):
        start, end = parse_range(args.get("from"), args.get("to"), zone, datetime.now(UTC),
                                 problems)
    where = filters.conditions(args, "where", problems)
    try:
        limit = parse_limit(args.get("limit"))
    except BadQuery as exc:
        problems.append(str(exc))
        limit = 0
    if problems:
        raise BadReport(problems)
    return timeline.compute(Scope(project_id, start, end, zone, where), user_id, limit,
                            args.get("cursor") or None)


def requested_user() -> str:
    """The user id of `?id=`: a query parameter reaches any id exactly (a path is normalised
    on the way: `/x` lost its slash, `.` and `..` vanished)."""
    user_id = request.args.get("id")
    if not user_id:
        raise BadQuery('"id" is required: the user id, e.g. /users?id=123')
    return user_id


@bp.get("/users")
def user_json():
    return ok(user_timeline(request.args, policy.read_project_id(), requested_user()))


@bp.get("/users/<path:user_id>")
def user_json_by_path(user_id: str):
    """The older form, for ids a path carries unchanged."""
    return ok(user_timeline(request.args, policy.read_project_id(), user_id))


# ---- pages ----------------------------------------------------------------------------------

@pages.app_context_processor
def page_helpers() -> dict:
    """What every page's templates may use: the project's navigation (base.html) and the
    reports in words (a result renders on its page, a shared page and a board alike)."""
    return {"site_nav": nav.links, "report_words": reportwords}


def drawing_of(kind: str, data: dict, args):
    """A report's charts for its page: geometry laid out here, drawn by its template."""
    if kind == "funnel":
        return reportsvg.funnel(data), reportsvg.funnel_breakdown(data)
    if kind == "breakdown":
        return reportsvg.breakdown(data)
    if kind == "paths":
        return pathsvg.layout(data)
    if kind == "trends":
        return trendsvg.layout(data, args.get("display") or "line")
    return None  # retention: its table is the coloured grid


def table_of(kind: str, data: dict):
    """A report's tables for its page, in words (readable headers, thousands separators,
    durations and percentages); the CSV keeps the API's keys (webapp.reports.tables)."""
    return trendwords.table(data) if kind == "trends" else reportwords.tables(kind, data)


def page_problems(kind: str, args) -> list[str]:
    """What is wrong with the page's own parameters (the report's are the engine's)."""
    return trendsvg.display_problems(args) if kind == "trends" else []


def is_live(data: dict | None) -> bool:
    """Whether a result's range includes now (ISO UTC instants sort as text)."""
    return bool(data) and data["to"] > iso(datetime.now(UTC))


@pages.get("/projects/<project:slug>/reports/<kind>")
@accounts.login_required
def report_page(slug: Handle, kind: str):
    if kind not in KINDS:
        abort(404)
    user, projects, project = policy.user_project(slug)
    data, problems, job = None, [], None
    own_query = urlencode(list(request.args.items(multi=True)))
    if request.args:
        problems = page_problems(kind, request.args)
        try:
            with time_limit(current_app.config["REPORT_INLINE_MS"]):
                data = params.run(kind, request.args, project.id, project.time_zone,
                                  datetime.now(UTC))
        except BadReport as exc:
            problems = exc.problems + problems
        except TooSlow:  # a Celery task computes it; the page follows it over SSE
            if not problems:
                job = jobs.start(current_app.extensions["celery"], project.id, kind, own_query)
        if problems:
            data = None
    lists = suggest.page_lists(project.id, request.args)
    return render_template("reports/report.html", kind=kind, kinds=KINDS, user=user,
                           projects=projects, project=project, data=data,
                           table=table_of(kind, data) if data else None,
                           drawing=drawing_of(kind, data, request.args) if data else None,
                           problems=problems, args=request.args,
                           query=urlencode([*request.args.items(multi=True),
                                            ("project", project.link)]),
                           save_query=own_query, job=job, live=is_live(data),
                           saved_reports=saved.saved_for(project.id), pickers=lists,
                           conditions=conditions.first_options(lists), words=trendwords), \
        400 if problems else 200


@pages.get("/projects/<project:slug>/reports/conditions")
@accounts.login_required
def conditions_fragment(slug: Handle):
    """The `<datalist id="conditions">` of a report form's condition inputs, for what one of
    them holds (htmx names it in HX-Trigger-Name; `q` otherwise)."""
    project = policy.user_project(slug)[2]
    typed = suggest.typed_value() or request.args.get("q", "")
    return render_template("reports/_conditions.html",
                           conditions=conditions.typed_options(project.id, typed))


def result_html(kind: str, args, project, job: str | None = None) -> str:
    data = (jobs.result(current_app.extensions["celery"], job) if job else None) or \
        params.run(kind, args, project.id, project.time_zone, datetime.now(UTC))
    return render_template(
        "reports/_result.html", kind=kind, project=project, data=data, problems=[],
        table=table_of(kind, data), drawing=drawing_of(kind, data, args), live=is_live(data),
        query=urlencode([*args.items(multi=True), ("project", project.link)]),
        save_query=urlencode(list(args.items(multi=True))))


def progress_html(elapsed: float, expected: float | None) -> str:
    """A running report's progress bar, estimated from the last run's duration (`expected`,
    seconds), or the seconds so far when there was none; changes in steps of 5% or 1 s, so a
    stream sends it only when it changed."""
    if not expected:
        return (f'<progress aria-label="report progress"></progress> '
                f"<span>running for {int(elapsed)} s</span>")
    percent = min(99, int(100 * elapsed / expected) // 5 * 5)
    return (f'<progress aria-label="report progress" max="100" value="{percent}"></progress> '
            f"<span>about {percent}% (estimated from the last run, {expected:.0f} s)</span>")


def sse(event: str, html: str) -> str:
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"


@pages.get("/projects/<project:slug>/reports/<kind>/jobs/<job>")
@accounts.login_required
def job_stream(slug: Handle, kind: str, job: str):
    """Server-sent events of a long report: its state while it runs, then its result."""
    if kind not in KINDS:
        abort(404)
    _, _, project = policy.user_project(slug)
    args = request.args.copy()
    if jobs.job_id(project.id, kind, urlencode(list(args.items(multi=True)))) != job:
        abort(404)  # a job of another project or report
    celery, redis = current_app.extensions["celery"], current_app.extensions["redis"]

    def events():
        shown = None
        for _ in range(int(jobs.TTL_SECONDS / 0.25)):
            state, elapsed, expected = jobs.progress(celery, redis, job, project.id, kind)
            html = (progress_html(elapsed, expected) if elapsed is not None
                    else f"<span>{escape(state or 'gone')}…</span>")
            if html != shown:
                shown = html
                yield sse("progress", html)
            if state == "done":
                yield sse("done", result_html(kind, args, project, job))
                return
            if state in (None, "failed"):
                yield sse("done", '<section id="report-result" class="card report-result">'
                                  '<p class="error">The report failed; run it again.</p>'
                                  "</section>")
                return
            time.sleep(0.25)

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@pages.get("/projects/<project:slug>/users/<path:user_id>")
@accounts.login_required
def user_page_by_path(slug: Handle, user_id: str):
    """The older form of a user's page, for ids a path carries unchanged."""
    policy.user_project(slug)
    args = {**request.args.to_dict(flat=False), "id": user_id}
    return redirect(url_for("report_pages.user_page", slug=slug, **args))


@pages.get("/projects/<project:slug>/users")
@accounts.login_required
def user_page(slug: Handle):
    user, projects, project = policy.user_project(slug)
    user_id = request.args.get("id")
    if not user_id:
        abort(400, '"id" is required: the user id')
    try:
        data, problems = user_timeline(request.args, project.id, user_id), []
    except BadReport as exc:
        data, problems = None, exc.problems
    except BadQuery as exc:
        data, problems = None, [str(exc)]
    return render_template("reports/user.html", kinds=KINDS, user=user, projects=projects,
                           project=project, data=data, problems=problems, user_id=user_id,
                           args=request.args), 400 if problems else 200
