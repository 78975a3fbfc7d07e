"""A project's alert rules and their delivery log (htmx forms)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app

from webapp.alerts import deliver, rules
from webapp.errors import NotFound
from webapp.ingest.queue import ALERTS_QUEUE
from webapp.models import AlertRule
from webapp.reports import saved
from webapp.tenancy import accounts, policy
from webapp.tenancy.projects import Handle
from webapp.web.manage.forms import AlertForm
from webapp.web.manage.pages import project_part

bp = Blueprint("alerts", __name__)


def _answer(project, status: int = 200, **extra):
    return project_part(project, "manage/_alerts.html", status, **extra)


@bp.post("/projects/<project:slug>/alerts")
@accounts.login_required
def create_alert(slug: Handle):
    project = policy.managed_project(slug)
    form = AlertForm().values()
    values, errors = rules.validate(
        form, current_app.config["ALERTS_ALLOW_PRIVATE_DESTINATIONS"],
        saved.outlines(project.id, project.time_zone, datetime.now(UTC)))
    if not errors:
        try:
            rule = rules.create(project, values)
        except ValueError as exc:  # the project's rules on trends are counted as it is saved
            errors = {"when": rules.sentence(str(exc))}
    if errors:
        return _answer(project, 400, alert_errors=errors, alert_form=form)
    return _answer(project, alert_secret=(rule.name, rule.secret))


@bp.post("/projects/<project:slug>/alerts/<int:rule_id>/test")
@accounts.login_required
def test_alert(slug: Handle, rule_id: int):
    """Send a test message now (the delivery log shows how it went)."""
    project = policy.managed_project(slug)
    rule = AlertRule.get_or_none(AlertRule.id == rule_id, AlertRule.project == project.id)
    if rule is None:
        raise NotFound("No such alert rule")
    notice_id = deliver.send_test(rule, datetime.now(UTC))
    current_app.extensions["celery"].send_task(deliver.TASK, args=[notice_id], queue=ALERTS_QUEUE)
    return _answer(project)


@bp.post("/projects/<project:slug>/alerts/<int:rule_id>/<any(pause, resume, delete):action>")
@accounts.login_required
def change_alert(slug: Handle, rule_id: int, action: str):
    project = policy.managed_project(slug)
    done = (rules.delete(project.id, rule_id) if action == "delete"
            else rules.set_active(project.id, rule_id, action == "resume"))
    if not done:
        raise NotFound("No such alert rule")
    return _answer(project)
