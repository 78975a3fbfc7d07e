"""Management pages: organizations, projects, keys, signing secrets and members (htmx forms)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.security import generate_password_hash

from webapp.db import database
from webapp.models import ApiKey, Membership, Organization, Project, SigningSecret, User
from webapp.reads.ranges import valid_zones
from webapp.tenancy import accounts, tenants

bp = Blueprint("manage", __name__, url_prefix="/manage")
MANAGERS = ("owner", "admin")


def _require_role(organization_id: int, roles=MANAGERS) -> str:
    role = accounts.role_in(accounts.current_user(), organization_id)
    if role is None:
        abort(404)  # another tenant's things do not exist for this user
    if role not in roles:
        abort(403, "Your role in this organization may not change it")
    return role


def _project(slug: str) -> Project:
    project = Project.get_or_none(Project.slug == slug)
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
    user = accounts.current_user()
    memberships = (Membership.select(Membership, Organization).join(Organization)
                   .where(Membership.user == user).order_by(Organization.name))
    return render_template("manage/index.html", user=user, memberships=list(memberships),
                           errors={})


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
        user = accounts.current_user()
        memberships = Membership.select(Membership, Organization).join(Organization).where(
            Membership.user == user)
        return render_template("manage/index.html", user=user, memberships=list(memberships),
                               errors=errors), 400
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
    return redirect(url_for("manage.project", slug=project.slug))


def _project_context(project: Project, **extra) -> dict:
    return {"project": project,
            "keys": list(ApiKey.select().where(ApiKey.project == project).order_by(ApiKey.id)),
            "secrets": list(SigningSecret.select().where(SigningSecret.project == project)
                            .order_by(SigningSecret.id)),
            "new_secret": None, "errors": {}, "zones": zone_names(), **extra}


@bp.get("/projects/<slug>")
@accounts.login_required
def project(slug: str):
    return render_template("manage/project.html", **_project_context(_project(slug)))


@bp.post("/projects/<slug>/keys")
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


@bp.post("/projects/<slug>/time-zone")
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


@bp.post("/projects/<slug>/keys/<int:key_id>/revoke")
@accounts.login_required
def revoke_key(slug: str, key_id: int):
    project = _project(slug)
    try:
        tenants.revoke_key(project, key_id)
    except tenants.TenantError:
        abort(404)
    return _partial_or_page("manage/project.html", "manage/_keys.html",
                            **_project_context(project))


@bp.post("/projects/<slug>/signing-secrets")
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
    organization = Organization.get_or_none(Organization.slug == slug) or abort(404)
    _require_role(organization.id)
    email = accounts.normalize_email(request.form.get("email", ""))
    role, password = request.form.get("role", ""), request.form.get("password", "")
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = "Enter an email address."
    if role not in accounts.ROLES:
        errors["role"] = "Choose owner, admin or viewer."
    user = User.get_or_none(User.email == email)
    if user is None and len(password) < 12:
        errors["password"] = "A new user needs a first password of at least 12 characters."
    if errors:
        return _partial_or_page("manage/members.html", "manage/_members.html",
                                **_members_context(organization, errors=errors)), 400
    if user is None:
        user = User.create(email=email, password_hash=generate_password_hash(password))
    Membership.insert(user=user, organization=organization, role=role).on_conflict(
        conflict_target=[Membership.user, Membership.organization],
        update={Membership.role: role}).execute()
    return _partial_or_page("manage/members.html", "manage/_members.html",
                            **_members_context(organization))
