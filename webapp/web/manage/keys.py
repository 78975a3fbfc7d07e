"""A project's ingest keys, read tokens and signing secrets: made (shown once) and revoked."""

from __future__ import annotations

from flask import Blueprint

from webapp.errors import NotFound, TenantError
from webapp.tenancy import accounts, policy, tenants
from webapp.tenancy.projects import Handle
from webapp.web.manage.forms import KeyForm, SigningSecretForm
from webapp.web.manage.pages import project_part

bp = Blueprint("keys", __name__)


def _keys(project, status: int = 200, **extra):
    return project_part(project, "manage/_keys.html", status, **extra)


@bp.post("/projects/<project:slug>/keys")
@accounts.login_required
def create_key(slug: Handle):
    project = policy.managed_project(slug)
    form = KeyForm()
    if not form.validate():
        return _keys(project, 400, errors=form.problems())
    _, secret = tenants.create_key(project, form.kind.data, form.name.data)
    return _keys(project, new_secret=secret)


@bp.post("/projects/<project:slug>/keys/<int:key_id>/revoke")
@accounts.login_required
def revoke_key(slug: Handle, key_id: int):
    return _revoke(slug, tenants.revoke_key, key_id)


@bp.post("/projects/<project:slug>/signing-secrets")
@accounts.login_required
def add_signing_secret(slug: Handle):
    project = policy.managed_project(slug)
    secret = tenants.add_signing_secret(project, SigningSecretForm().name.data)
    return _keys(project, new_secret=secret.secret)


@bp.post("/projects/<project:slug>/signing-secrets/<int:secret_id>/revoke")
@accounts.login_required
def revoke_signing_secret(slug: Handle, secret_id: int):
    return _revoke(slug, tenants.revoke_signing_secret, secret_id)


def _revoke(slug: Handle, revoke, number: int):
    """Revoke a key or a signing secret (each has its own route: their numbers are apart)."""
    project = policy.managed_project(slug)
    try:
        revoke(project, number)
    except TenantError as exc:
        raise NotFound(exc.message) from None
    return _keys(project)
