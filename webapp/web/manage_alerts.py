"""Management pages: a project's alert rules and their delivery log (htmx forms)."""

from __future__ import annotations

from flask import abort, current_app, request

from webapp.alerts import rules
from webapp.tenancy import accounts
from webapp.web.manage import _partial_or_page, _project, _project_context, bp

FIELDS = ("name", "when", "where", "url", "format", "max_per_day", "z", "min_volume")


def _answer(project, status: int = 200, **extra):
    return _partial_or_page("manage/project.html", "manage/_alerts.html",
                            **_project_context(project, **extra)), status


@bp.post("/projects/<slug>/alerts")
@accounts.login_required
def create_alert(slug: str):
    project = _project(slug)
    form = {name: request.form.get(name, "") for name in FIELDS}
    values, errors = rules.validate(
        form, current_app.config["ALERTS_ALLOW_PRIVATE_DESTINATIONS"])
    if errors:
        return _answer(project, 400, alert_errors=errors, alert_form=form)
    rule = rules.create(project, values)
    return _answer(project, alert_secret=(rule.name, rule.secret))


@bp.post("/projects/<slug>/alerts/<int:rule_id>/<any(pause, resume, delete):action>")
@accounts.login_required
def change_alert(slug: str, rule_id: int, action: str):
    project = _project(slug)
    done = (rules.delete(project.id, rule_id) if action == "delete"
            else rules.set_active(project.id, rule_id, action == "resume"))
    if not done:
        abort(404)
    return _answer(project)
