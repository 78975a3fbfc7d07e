"""/manage/: the user's organizations and projects, a new organization, a new password."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for

from webapp.db import database
from webapp.errors import TenantError
from webapp.ingest.limits import limiter
from webapp.models import Membership, Organization, User
from webapp.tenancy import accounts, tenants
from webapp.web.manage.forms import OrganizationForm, PasswordForm

bp = Blueprint("account", __name__)


@bp.get("/")
@accounts.login_required
def index():
    return index_page(accounts.current_user(), {})


def index_page(user: User, errors: dict) -> str:
    memberships = (Membership.select(Membership, Organization).join(Organization)
                   .where(Membership.user == user).order_by(Organization.name))
    return render_template("manage/index.html", user=user, memberships=list(memberships),
                           errors=errors)


@bp.post("/organizations")
@accounts.login_required
def create_organization():
    form = OrganizationForm()
    errors = {} if form.validate() else form.problems()
    if not errors:
        try:
            with database.atomic():
                organization = tenants.create_organization(form.name.data)
                Membership.create(user=accounts.current_user(), organization=organization,
                                  role="owner")
        except TenantError as exc:
            errors["name"] = exc.message
    if errors:
        return index_page(accounts.current_user(), errors), 400
    return redirect(url_for("manage.account.index"))


@bp.post("/password")
@accounts.login_required
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])  # no guessing the current one
def change_password():
    """A new password for the logged-in user; their other sessions and streams end."""
    user = accounts.current_user()
    form = PasswordForm()
    form.validate()
    errors = {}
    if not accounts.password_matches(user, form.current.data or ""):
        errors["current"] = "That is not your current password."
    errors.update(form.problems())
    if errors:
        return index_page(user, errors), 400
    accounts.set_password(user, form.new.data, keep=accounts.current_session_id())
    return redirect(url_for("manage.account.index"))
