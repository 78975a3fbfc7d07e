"""Organizations, projects, keys and signing secrets: creating, listing, revoking."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from webapp.db import database
from webapp.ingest.signatures import new_secret
from webapp.models import ApiKey, Organization, Project, SigningSecret, digest
from webapp.reads.ranges import zone

DEFAULT_SLUG = "default"
KEY_PREFIXES = {"ingest": "pb_live_", "read": "pb_read_"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class TenantError(ValueError):
    """A request to create or change something that cannot be done; the message says why."""


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63] or "project"


def create_organization(name: str, slug: str | None = None) -> Organization:
    slug = slug or slugify(name)
    if not SLUG.match(slug):
        raise TenantError("slug: lowercase letters, digits and dashes, at most 63")
    if Organization.select().where(Organization.slug == slug).exists():
        raise TenantError(f"an organization {slug!r} exists already")
    return Organization.create(name=name.strip(), slug=slug)


def create_project(organization: Organization, name: str, slug: str | None = None) -> Project:
    slug = slug or slugify(name)
    if not SLUG.match(slug):
        raise TenantError("slug: lowercase letters, digits and dashes, at most 63")
    if Project.select().where(Project.slug == slug).exists():
        raise TenantError(f"a project {slug!r} exists already")
    return Project.create(organization=organization, name=name.strip(), slug=slug)


def create_key(project: Project, kind: str, name: str,
               secret: str | None = None) -> tuple[ApiKey, str]:
    """A new key; the plain text is returned once and only its hash is kept."""
    if kind not in KEY_PREFIXES:
        raise TenantError("kind must be ingest or read")
    secret = secret or KEY_PREFIXES[kind] + secrets.token_urlsafe(24)
    key = ApiKey.create(project=project, kind=kind, name=name.strip() or kind,
                        prefix=secret[:12], key_hash=digest(secret))
    return key, secret


def revoke_key(project: Project, key_id: int) -> None:
    revoked = (ApiKey.update(revoked_at=datetime.now(UTC))
               .where(ApiKey.id == key_id, ApiKey.project == project, ApiKey.revoked_at.is_null())
               .execute())
    if not revoked:
        raise TenantError(f"no live key {key_id} in project {project.slug!r}")


def set_time_zone(project: Project, name: str) -> None:
    """Set the project's IANA time zone (its day and week boundaries)."""
    try:
        zone(name)
    except ValueError as exc:
        raise TenantError(str(exc)) from None
    Project.update(time_zone=name).where(Project.id == project.id).execute()
    project.time_zone = name


def add_signing_secret(project: Project, name: str, secret: str | None = None) -> SigningSecret:
    return SigningSecret.create(project=project, name=name.strip() or "signing",
                                secret=secret or new_secret())


def revoke_signing_secret(project: Project, secret_id: int) -> None:
    revoked = (SigningSecret.update(revoked_at=datetime.now(UTC))
               .where(SigningSecret.id == secret_id, SigningSecret.project == project,
                      SigningSecret.revoked_at.is_null())
               .execute())
    if not revoked:
        raise TenantError(f"no live signing secret {secret_id} in project {project.slug!r}")


ENV_KEY_NAME = "from environment"


def ensure_key(project: Project, kind: str, secret: str) -> None:
    """Make `secret` the live key of this kind set by the environment (replacing an older one)."""
    existing = ApiKey.get_or_none(ApiKey.key_hash == digest(secret))
    if existing is None:
        (ApiKey.update(revoked_at=datetime.now(UTC))
         .where(ApiKey.project == project, ApiKey.kind == kind, ApiKey.name == ENV_KEY_NAME,
                ApiKey.revoked_at.is_null())
         .execute())
        create_key(project, kind, ENV_KEY_NAME, secret)
    elif existing.project_id != project.id or existing.kind != kind:
        raise TenantError(f"that {kind} key belongs to another project or kind")
    elif existing.revoked_at is not None:
        raise TenantError(f"that {kind} key was revoked; set a new one")


@database.atomic()
def ensure_default_project(ingest_key: str, read_token: str) -> Project:
    """The default organization and project, with the given ingest key and read token live."""
    organization = Organization.get_or_none(Organization.slug == DEFAULT_SLUG)
    if organization is None:
        organization = Organization.create(slug=DEFAULT_SLUG, name="Default organization")
    project = Project.get_or_none(Project.slug == DEFAULT_SLUG)
    if project is None:
        project = Project.create(organization=organization, slug=DEFAULT_SLUG,
                                 name="Default project")
    ensure_key(project, "ingest", ingest_key)
    ensure_key(project, "read", read_token)
    return project
