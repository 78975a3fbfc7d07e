"""Dashboard pages: login, logout, the live dashboard and its event stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.exceptions import ServiceUnavailable
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from webapp.annotations import notes
from webapp.annotations.markers import starts_of
from webapp.errors import UnknownFilter
from webapp.ingest.limits import limiter, limits_available, login_account_key
from webapp.live.panels import RECENT, panel_data
from webapp.live.stream import stream as live_stream
from webapp.reads import chart, span
from webapp.reads.events import list_events
from webapp.reads.ranges import parse_range
from webapp.reads.windows import WINDOWS, Window, window_for
from webapp.tenancy import accounts, policy

bp = Blueprint("dashboard", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target or urlsplit(target).netloc or not target.startswith("/") or \
            target.startswith("//"):
        return url_for("dashboard.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               key_func=login_account_key)
def login():
    if request.method == "POST" and not limits_available():
        paused = ServiceUnavailable("Logging in is paused while its rate limits cannot be "
                                    "checked; retry in a moment.")
        retry = str(current_app.config["RETRY_AFTER_SECONDS"])
        return render_template("error.html", error=paused), 503, {"Retry-After": retry}
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            accounts.log_in(user)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append("Wrong email or password.")
    status = 400 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    """Ends the session on the server, not only in this browser."""
    accounts.log_out()
    flash("You are logged out.")
    return redirect(url_for("dashboard.login"))


def _window():
    try:
        return window_for(request.args.get("filter"))
    except UnknownFilter as exc:
        abort(400, str(exc))


@bp.get("/")
@accounts.login_required
def index():
    handle = request.args.get("project")
    if handle:
        user, visible, project = policy.user_project(handle)
    else:
        user = accounts.current_user()
        visible = policy.visible_projects(user)
        if not visible:
            abort(403, "No such project for your account")
        project = visible[0]
    note_form = {"may_annotate": policy.role_in(user, project.organization_id) in
                 policy.MANAGERS,
                 "now_local": notes.local_input(datetime.now(UTC), project.time_zone)}
    if request.args.get("from") or request.args.get("to"):
        return render_template("dashboard.html", project=project, projects=visible, user=user,
                               **note_form, **range_data(project))
    window = _window()
    context = panel_data(project.id, window, datetime.now(UTC))
    return render_template("dashboard.html", project=project, projects=visible, user=user,
                           **note_form, **context)


def range_data(project) -> dict:
    """The panels for a from/to range in the project's zone (a fixed view, not live)."""
    problems: list[str] = []
    now = datetime.now(UTC)
    start, end = parse_range(request.args.get("from"), request.args.get("to"),
                             project.time_zone, now, problems)
    bucket = request.args.get("bucket") or None
    if bucket not in (None, *span.BUCKETS):
        problems.append(f'"bucket" must be one of [{", ".join(span.BUCKETS)}]')
    if problems:
        abort(400, "; ".join(problems))
    data = span.compute(project.id, start, end, project.time_zone, bucket)
    seconds = {"hour": 3600, "day": 86400, "week": 7 * 86400}[data["bucket"]]
    recent = list_events(project.id, WINDOWS["week"], now, limit=RECENT, span=(start, end))
    zone = project.time_zone
    drawn = chart.build(data["series"], seconds, zone)
    return {"stats": data, "chart": drawn,
            "markers": notes.on_chart(project.id, drawn, starts_of(data["series"], zone), end,
                                      zone),
            "recent": recent["events"], "window": Window("range", timedelta(0), 0),
            "windows": list(WINDOWS), "project_slug": project.handle, "span": data,
            "time_zone": project.time_zone,
            "dead_letters": 0, "rendered_at": now}


@bp.get("/stream")
def stream():
    """Server-sent events of one project and filter: for a session or a read token."""
    project_id, principal = policy.read_access()  # a refusal: plain text (see answers.py)
    window = _window()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "close"}
    if request.method == "HEAD":  # the headers only: no client registered, no channel claimed
        return Response(b"", mimetype="text/event-stream", headers=headers)
    body = live_stream(project_id, window.name, principal, policy.still_allowed)
    # Connection: close, so that a stream ended by a stopping process takes its connection
    # with it and the browser reconnects to a process that is still serving
    return Response(body, mimetype="text/event-stream", headers=headers)

