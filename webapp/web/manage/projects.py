"""A project's settings page: made in an organization, its time zone and /webhook limits."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from webapp.errors import Invalid, NotFound, TenantError
from webapp.tenancy import accounts, policy, tenants
from webapp.tenancy.projects import Handle
from webapp.web.manage.forms import LimitsForm, ProjectForm, TimeZoneForm
from webapp.web.manage.pages import (
    managed_organization,
    project_context,
    project_part,
)

bp = Blueprint("projects", __name__)


@bp.post("/organizations/<slug>/projects")
@accounts.login_required
def create_project(slug: str):
    organization, _ = managed_organization(slug)
    form = ProjectForm()
    if not form.validate():
        raise Invalid(list(form.problems().values()))
    project = tenants.create_project(organization, form.name.data)  # TenantError: a 400
    return redirect(url_for("manage.projects.project", slug=project))


@bp.get("/projects/<project:slug>")
@accounts.login_required
def project(slug: Handle):
    return render_template("manage/project.html",
                           **project_context(policy.managed_project(slug)))


@bp.post("/projects/<project:slug>/time-zone")
@accounts.login_required
def set_time_zone(slug: Handle):
    project = policy.managed_project(slug)
    try:
        tenants.set_time_zone(project, TimeZoneForm().time_zone.data or "")
    except TenantError as exc:
        return render_template("manage/project.html", **project_context(
            project, errors={"time_zone": exc.message})), 400
    return redirect(url_for("manage.projects.project", slug=slug))


@bp.post("/projects/<project:slug>/limits")
@accounts.login_required
def set_limits(slug: Handle):
    project = policy.managed_project(slug)
    form = LimitsForm()
    requests, events = form.request_limit.data or "", form.event_limit.data or ""
    key_id = form.key_id.data
    errors = tenants.limit_errors(requests, events)
    if not errors:
        try:
            tenants.set_limits(project, requests, events, key_id)
        except TenantError as exc:
            raise NotFound(exc.message) from None
    return project_part(project, "manage/_limits.html", 400 if errors else 200,
                        limit_errors={key_id: errors}, saved=not errors)
