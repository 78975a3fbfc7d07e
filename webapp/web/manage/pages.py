"""What the management blueprints share: the organization or project a URL names (for a user
whose role may change it), and the context their pages and partials render with."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template, request

from webapp.alerts import panel as alerts_panel
from webapp.errors import NotFound
from webapp.models import ApiKey, Membership, Organization, Project, SigningSecret, User
from webapp.reports import saved
from webapp.tenancy import policy, tenants
from webapp.tenancy.accounts import ROLES
from webapp.zones import valid_zones


def managed_organization(slug: str) -> tuple[Organization, str]:
    """(the organization `slug` names, the logged-in user's role there), when that role may
    change it; another tenant's organization does not exist for the user."""
    organization = Organization.get_or_none(Organization.slug == slug)
    if organization is None:
        raise NotFound("No such organization for your account")
    return organization, policy.require_role(organization.id)


def partial_or_page(template: str, partial: str, **context):
    """htmx asks for the changed part only; without JavaScript the whole page comes back."""
    name = partial if request.headers.get("HX-Request") else template
    return render_template(name, **context)


def project_part(project: Project, partial: str, status: int = 200, **extra):
    """The project's management page, or only `partial` of it for htmx, with `status`."""
    return partial_or_page("manage/project.html", partial,
                           **project_context(project, **extra)), status


def zone_names() -> list[str]:
    return sorted(valid_zones())


def project_context(project: Project, **extra) -> dict:
    keys = list(ApiKey.select().where(ApiKey.project == project).order_by(ApiKey.id))
    return {"project": project, "keys": keys, "key_kinds": tenants.KEY_KINDS,
            "limit_rows": [(project, None, "the project"), *(
                (key, key.id, f"ingest key {key.name} ({key.prefix}…)") for key in keys
                if key.kind == "ingest" and not key.revoked_at)],
            "default_limits": (current_app.config["WEBHOOK_RATE_LIMIT"],
                               current_app.config["WEBHOOK_EVENT_LIMIT"]),
            "limit_errors": {}, "saved": False,
            "secrets": list(SigningSecret.select().where(SigningSecret.project == project)
                            .order_by(SigningSecret.id)),
            "new_secret": None, "errors": {}, "zones": zone_names(),
            "alert_rules": alerts_panel.rules_with_conditions(project.id),
            "alert_trends": [trend for trend in saved.outlines(project.id, project.time_zone,
                                                               datetime.now(UTC))
                             if trend.kind == "trends"],
            "alert_notices": alerts_panel.recent_notices(project.id),
            "alert_errors": {}, "alert_form": {}, "alert_secret": None, **extra}


def members_context(organization: Organization, **extra) -> dict:
    rows = (Membership.select(Membership, User).join(User)
            .where(Membership.organization == organization).order_by(User.email))
    return {"organization": organization, "members": list(rows), "errors": {},
            "roles": ROLES, **extra}
