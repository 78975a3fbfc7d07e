"""An organization's members: added (with a first password for a new account), their role
changed, removed. Only an owner grants or removes the owner role (tenancy.members)."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.db import database
from webapp.errors import Forbidden, RoleError
from webapp.models import Organization, User
from webapp.tenancy import accounts
from webapp.tenancy import members as membership
from webapp.web.manage.forms import MemberForm
from webapp.web.manage.pages import managed_organization, members_context, partial_or_page

bp = Blueprint("members", __name__)


@bp.get("/organizations/<slug>/members")
@accounts.login_required
def members(slug: str):
    organization, _ = managed_organization(slug)
    return render_template("manage/members.html", **members_context(organization))


@bp.post("/organizations/<slug>/members")
@accounts.login_required
def add_member(slug: str):
    """Add a member or change a role. The answer is the same whether or not the address has an
    account already (a new one gets the first password; an existing one keeps its own)."""
    organization, actor_role = managed_organization(slug)
    form = MemberForm()
    errors = {} if form.validate() else form.problems()
    if not errors:
        try:
            with database.atomic():
                user = (User.get_or_none(User.email == form.email.data)
                        or accounts.create_user(form.email.data, form.password.data))
                membership.set_role(actor_role, organization, user, form.role.data)
        except RoleError as exc:
            if exc.status == 403:
                raise Forbidden(exc.message) from None
            errors["role"] = exc.message
    return _answer(organization, errors)


@bp.post("/organizations/<slug>/members/<int:user_id>/remove")
@accounts.login_required
def remove_member(slug: str, user_id: int):
    """Take a member out of the organization; their sessions and open streams end."""
    organization, actor_role = managed_organization(slug)
    errors = {}
    try:
        membership.remove(actor_role, organization, user_id)
    except RoleError as exc:
        if exc.status != 400:
            raise
        errors["role"] = exc.message
    return _answer(organization, errors)


def _answer(organization: Organization, errors: dict):
    return partial_or_page("manage/members.html", "manage/_members.html",
                           **members_context(organization, errors=errors)), \
        400 if errors else 200
