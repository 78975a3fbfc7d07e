"""Management pages: a project's alert rules and their delivery log (htmx forms)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, request

from webapp.alerts import deliver, rules
from webapp.ingest.queue import ALERTS_QUEUE
from webapp.models import AlertRule
from webapp.tenancy import accounts
from webapp.web.manage import _partial_or_page, _project, _project_context, bp

FIELDS = ("name", "when", "where", "url", "format", "max_per_day", "z", "min_volume")


def _answer(project, status: int = 200, **extra):
    return _partial_or_page("manage/project.html", "manage/_alerts.html",
                            **_project_context(project, **extra)), status


@bp.post("/projects/<path:slug>/alerts")
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


@bp.post("/projects/<path:slug>/alerts/<int:rule_id>/test")
@accounts.login_required
def test_alert(slug: str, rule_id: int):
    """Send a test message now (the delivery log shows how it went)."""
    project = _project(slug)
    rule = AlertRule.get_or_none(AlertRule.id == rule_id, AlertRule.project == project.id)
    if rule is None:
        abort(404)
    notice_id = deliver.send_test(rule, datetime.now(UTC))
    current_app.extensions["celery"].send_task(deliver.TASK, args=[notice_id], queue=ALERTS_QUEUE)
    return _answer(project)


@bp.post("/projects/<path:slug>/alerts/<int:rule_id>/<any(pause, resume, delete):action>")
@accounts.login_required
def change_alert(slug: str, rule_id: int, action: str):
    project = _project(slug)
    done = (rules.delete(project.id, rule_id) if action == "delete"
            else rules.set_active(project.id, rule_id, action == "resume"))
    if not done:
        abort(404)
    return _answer(project)
