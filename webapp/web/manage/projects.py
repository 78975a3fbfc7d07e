"""Management pages: organizations, projects, keys, signing secrets and members (htmx forms);
alert rules are in manage_alerts.py."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from webapp.alerts import panel as alerts_panel
from webapp.db import database
from webapp.ingest.limits import limiter
from webapp.models import ApiKey, Membership, Organization, Project, SigningSecret, User
from webapp.reads.ranges import valid_zones
from webapp.tenancy import accounts, tenants
from webapp.tenancy import members as membership

bp = Blueprint("manage", __name__, url_prefix="/manage")
MANAGERS = ("owner", "admin")


def _require_role(organization_id: int, roles=MANAGERS) -> str:
    role = accounts.role_in(accounts.current_user(), organization_id)
    if role is None:
        abort(404)  # another tenant's things do not exist for this user
    if role not in roles:
        abort(403, "Your role in this organization may not change it")
    return role


def _project(handle: str) -> Project:
    """The user's project that "<org>/<slug>" (or a bare slug) names; 404 for anything else."""
    project = tenants.pick(accounts.visible_projects(accounts.current_user()), handle)
    if project is None:
        abort(404)
    _require_role(project.organization_id)
    return project


def _partial_or_page(template: str, partial: str, **context):
    """htmx asks for the changed part only; without JavaScript the whole page comes back."""
    name = partial if request.headers.get("HX-Request") else template
    return render_template(name, **context)


@bp.get("/")
@accounts.login_required
def index():
    return _index_page(accounts.current_user(), {})


def _index_page(user: User, errors: dict) -> str:
    memberships = (Membership.select(Membership, Organization).join(Organization)
                   .where(Membership.user == user).order_by(Organization.name))
    return render_template("manage/index.html", user=user, memberships=list(memberships),
                           errors=errors)


@bp.post("/organizations")
@accounts.login_required
def create_organization():
    name = request.form.get("name", "").strip()
    errors = {}
    if not 1 <= len(name) <= 200:
        errors["name"] = "Give the organization a name (at most 200 characters)."
    else:
        try:
            with database.atomic():
                organization = tenants.create_organization(name)
                Membership.create(user=accounts.current_user(), organization=organization,
                                  role="owner")
        except tenants.TenantError as exc:
            errors["name"] = str(exc)
    if errors:
        return _index_page(accounts.current_user(), errors), 400
    return redirect(url_for("manage.index"))


@bp.post("/organizations/<slug>/projects")
@accounts.login_required
def create_project(slug: str):
    organization = Organization.get_or_none(Organization.slug == slug) or abort(404)
    _require_role(organization.id)
    name = request.form.get("name", "").strip()
    if not 1 <= len(name) <= 200:
        abort(400, "Give the project a name (at most 200 characters).")
    try:
        project = tenants.create_project(organization, name)
    except tenants.TenantError as exc:
        abort(400, str(exc))
    return redirect(url_for("manage.project", slug=project.handle))


def _project_context(project: Project, **extra) -> dict:
    keys = list(ApiKey.select().where(ApiKey.project == project).order_by(ApiKey.id))
    return {"project": project, "keys": keys,
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
            "alert_notices": alerts_panel.recent_notices(project.id),
            "alert_errors": {}, "alert_form": {}, "alert_secret": None, **extra}


@bp.get("/projects/<path:slug>")
@accounts.login_required
def project(slug: str):
    return render_template("manage/project.html", **_project_context(_project(slug)))


@bp.post("/projects/<path:slug>/keys")
@accounts.login_required
def create_key(slug: str):
    project = _project(slug)
    kind, name = request.form.get("kind", ""), request.form.get("name", "").strip()
    errors = {}
    if kind not in tenants.KEY_PREFIXES:
        errors["kind"] = "Choose ingest key or read token."
    if not 1 <= len(name) <= 100:
        errors["name"] = "Name the key after what uses it (at most 100 characters)."
    if errors:
        return _partial_or_page("manage/project.html", "manage/_keys.html",
                                **_project_context(project, errors=errors)), 400
    _, secret = tenants.create_key(project, kind, name)
    return _partial_or_page("manage/project.html", "manage/_keys.html",
                            **_project_context(project, new_secret=secret))


@bp.post("/projects/<path:slug>/time-zone")
@accounts.login_required
def set_time_zone(slug: str):
    project = _project(slug)
    try:
        tenants.set_time_zone(project, request.form.get("time_zone", "").strip())
    except tenants.TenantError as exc:
        return render_template("manage/project.html", **_project_context(
            project, errors={"time_zone": str(exc)}, zones=zone_names())), 400
    return redirect(url_for("manage.project", slug=slug))


def zone_names() -> list[str]:
    return sorted(valid_zones())


@bp.post("/projects/<path:slug>/keys/<int:key_id>/revoke")
@accounts.login_required
def revoke_key(slug: str, key_id: int):
    return _revoke(slug, tenants.revoke_key, key_id)


@bp.post("/projects/<path:slug>/signing-secrets/<int:secret_id>/revoke")
@accounts.login_required
def revoke_signing_secret(slug: str, secret_id: int):
    return _revoke(slug, tenants.revoke_signing_secret, secret_id)


def _revoke(slug: str, revoke, number: int):
    """Revoke a key or a signing secret (each has its own route: their numbers are apart)."""
    project = _project(slug)
    try:
        revoke(project, number)
    except tenants.TenantError:
        abort(404)
    return _partial_or_page("manage/project.html", "manage/_keys.html",
                            **_project_context(project))


@bp.post("/projects/<path:slug>/limits")
@accounts.login_required
def set_limits(slug: str):
    project = _project(slug)
    requests = request.form.get("request_limit", "").strip()
    events = request.form.get("event_limit", "").strip()
    key_id = request.form.get("key_id", type=int)
    errors = tenants.limit_errors(requests, events)
    if not errors:
        try:
            tenants.set_limits(project, requests, events, key_id)
        except tenants.TenantError:
            abort(404)
    return _partial_or_page("manage/project.html", "manage/_limits.html",
                            **_project_context(project, limit_errors={key_id: errors},
                                               saved=not errors)), 400 if errors else 200


@bp.post("/projects/<path:slug>/signing-secrets")
@accounts.login_required
def add_signing_secret(slug: str):
    project = _project(slug)
    secret = tenants.add_signing_secret(project, request.form.get("name", "").strip()[:100])
    return _partial_or_page("manage/project.html", "manage/_keys.html",
                            **_project_context(project, new_secret=secret.secret))


@bp.get("/organizations/<slug>/members")
@accounts.login_required
def members(slug: str):
    organization = Organization.get_or_none(Organization.slug == slug) or abort(404)
    _require_role(organization.id)
    return render_template("manage/members.html", **_members_context(organization))


def _members_context(organization: Organization, **extra) -> dict:
    rows = (Membership.select(Membership, User).join(User)
            .where(Membership.organization == organization).order_by(User.email))
    return {"organization": organization, "members": list(rows), "errors": {},
            "roles": accounts.ROLES, **extra}


@bp.post("/organizations/<slug>/members")
@accounts.login_required
def add_member(slug: str):
    """Add a member or change a role. The answer is the same whether or not the address has an
    account already (a new one gets the first password; an existing one keeps its own)."""
    organization = Organization.get_or_none(Organization.slug == slug) or abort(404)
    actor_role = _require_role(organization.id)
    email = accounts.normalize_email(request.form.get("email", ""))
    role, password = request.form.get("role", ""), request.form.get("password", "")
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = "Enter an email address."
    if role not in accounts.ROLES:
        errors["role"] = "Choose owner, admin or viewer."
    if not 12 <= len(password) <= 200:
        errors["password"] = ("Give a first password of 12 to 200 characters (used only if "
                              "the address has no account yet).")
    if not errors:
        try:
            with database.atomic():
                user = User.get_or_none(User.email == email) or accounts.create_user(email,
                                                                                     password)
                membership.set_role(actor_role, organization, user, role)
        except membership.RoleError as exc:
            if exc.status == 403:
                abort(403, exc.message)
            errors["role"] = exc.message
    return _members_answer(organization, errors)


@bp.post("/organizations/<slug>/members/<int:user_id>/remove")
@accounts.login_required
def remove_member(slug: str, user_id: int):
    """Take a member out of the organization; their sessions and open streams end."""
    organization = Organization.get_or_none(Organization.slug == slug) or abort(404)
    actor_role = _require_role(organization.id)
    errors = {}
    try:
        membership.remove(actor_role, organization, user_id)
    except membership.RoleError as exc:
        if exc.status != 400:
            abort(exc.status, exc.message)
        errors["role"] = exc.message
    return _members_answer(organization, errors)


def _members_answer(organization: Organization, errors: dict):
    return _partial_or_page("manage/members.html", "manage/_members.html",
                            **_members_context(organization, errors=errors)), \
        400 if errors else 200


@bp.post("/password")
@accounts.login_required
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])  # no guessing the current one
def change_password():
    """A new password for the logged-in user; their other sessions and streams end."""
    user = accounts.current_user()
    current, new = request.form.get("current", ""), request.form.get("new", "")
    errors = {}
    if not accounts.password_matches(user, current):
        errors["current"] = "That is not your current password."
    if not 12 <= len(new) <= 200:
        errors["new"] = "Choose a new password of 12 to 200 characters."
    if errors:
        return _index_page(user, errors), 400
    accounts.set_password(user, new, keep=accounts.current_session_id())
    return redirect(url_for("manage.index"))
