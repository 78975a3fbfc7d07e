"""Organizations, projects, keys and signing secrets: creating, listing, revoking."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from webapp.db import database
from webapp.errors import TenantError
from webapp.models import ApiKey, Organization, Project, SigningSecret, digest
from webapp.tenancy import credentials
from webapp.tenancy.projects import DEFAULT_SLUG, SLUG
from webapp.tenancy.values import limit_problem, new_secret
from webapp.zones import zone

KEY_PREFIXES = {"ingest": "pb_live_", "read": "pb_read_", "annotate": "pb_note_"}
KEY_KINDS = {"ingest": "ingest key", "read": "read token", "annotate": "annotation key"}


def slugify(name: str, fallback: str = "project") -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or fallback


def create_organization(name: str, slug: str | None = None) -> Organization:
    """With a slug given (the command line), that slug or an error. Without one (the web
    form), a slug from the name plus a random suffix: the answer is the same whether or not
    another tenant has an organization of that name."""
    if slug is None:
        base = slugify(name, "organization")
        while Organization.select().where(Organization.slug == (
                slug := f"{base}-{secrets.token_hex(3)}")).exists():
            pass
    if not SLUG.fullmatch(slug):
        raise TenantError("slug: lowercase letters, digits and dashes, at most 63")
    if Organization.select().where(Organization.slug == slug).exists():
        raise TenantError(f"an organization {slug!r} exists already")
    return Organization.create(name=name.strip(), slug=slug)


def create_project(organization: Organization, name: str, slug: str | None = None) -> Project:
    """A slug unique within the organization: the one given, or one from the name (numbered
    when the organization has it already)."""
    taken = {s for (s,) in Project.select(Project.slug)
             .where(Project.organization == organization).tuples()}
    if slug is None:
        base = slugify(name)
        slug = next(candidate for n in range(1, len(taken) + 2)
                    if (candidate := base if n == 1 else f"{base}-{n}") not in taken)
    if not SLUG.fullmatch(slug):
        raise TenantError("slug: lowercase letters, digits and dashes, at most 63")
    if slug in taken:
        raise TenantError(f"this organization has a project {slug!r} already")
    return Project.create(organization=organization, name=name.strip(), slug=slug)


def create_key(project: Project, kind: str, name: str,
               secret: str | None = None) -> tuple[ApiKey, str]:
    """A new key; the plain text is returned once and only its hash is kept."""
    if kind not in KEY_PREFIXES:
        raise TenantError("kind must be ingest, read or annotate")
    secret = secret or KEY_PREFIXES[kind] + secrets.token_urlsafe(24)
    key = ApiKey.create(project=project, kind=kind, name=name.strip() or kind,
                        prefix=secret[:12], key_hash=digest(secret))
    return key, secret


def revoke_key(project: Project, key_id: int, kind: str | None = None) -> None:
    """Revoke a live key of the project (of that kind, when given); it stops working within
    seconds (the key cache)."""
    query = ApiKey.update(revoked_at=datetime.now(UTC)).where(
        ApiKey.id == key_id, ApiKey.project == project, ApiKey.revoked_at.is_null())
    if kind is not None:
        query = query.where(ApiKey.kind == kind)
    if not query.execute():
        raise TenantError(f"no live {kind or 'key'} #{key_id} in project {project.slug!r}")


def limit_errors(requests: str, events: str) -> dict[str, str]:
    """Why each /webhook limit given is not one (flask-limiter notation; empty: the default)."""
    errors = {}
    for field, text in (("request_limit", requests), ("event_limit", events)):
        if text and (why := limit_problem(text)):
            errors[field] = (f"{text[:40]!r} {why}: write e.g. '5000 per second' or "
                             "'50000 per 10 seconds; 1000000 per hour' (a count of at least 1 "
                             "per a period of at most a day), or leave it empty")
    return errors


def set_limits(project: Project, requests: str, events: str, key_id: int | None = None) -> None:
    """The /webhook limits of a project, or of one of its ingest keys (empty: the default, or
    for a key its project's). They apply within seconds (keys are looked up every few)."""
    requests, events = requests.strip(), events.strip()
    if errors := limit_errors(requests, events):
        raise TenantError("; ".join(errors.values()))
    values = {"request_limit": requests or None, "event_limit": events or None}
    if key_id is None:
        Project.update(**values).where(Project.id == project.id).execute()
        return
    changed = (ApiKey.update(**values)
               .where(ApiKey.id == key_id, ApiKey.project == project, ApiKey.kind == "ingest")
               .execute())
    if not changed:
        raise TenantError(f"no ingest key {key_id} in project {project.slug!r}")


def set_time_zone(project: Project, name: str) -> None:
    """Set the project's IANA time zone (its day and week boundaries)."""
    try:
        zone(name)
    except ValueError as exc:
        raise TenantError(str(exc)) from None
    Project.update(time_zone=name).where(Project.id == project.id).execute()
    project.time_zone = name


def add_signing_secret(project: Project, name: str, secret: str | None = None) -> SigningSecret:
    created = SigningSecret.create(project=project, name=name.strip() or "signing",
                                   secret=secret or new_secret())
    credentials.forget_signing_secrets(project.id)
    return created


def revoke_signing_secret(project: Project, secret_id: int) -> None:
    """Revoke a signing secret; deliveries signed only with it are refused within seconds."""
    revoked = (SigningSecret.update(revoked_at=datetime.now(UTC))
               .where(SigningSecret.id == secret_id, SigningSecret.project == project,
                      SigningSecret.revoked_at.is_null())
               .execute())
    if not revoked:
        raise TenantError(f"no live signing secret #{secret_id} in project {project.slug!r}")
    credentials.forget_signing_secrets(project.id)


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
    project = Project.get_or_none(Project.slug == DEFAULT_SLUG,
                                  Project.organization == organization)
    if project is None:
        project = Project.create(organization=organization, slug=DEFAULT_SLUG,
                                 name="Default project")
    ensure_key(project, "ingest", ingest_key)
    ensure_key(project, "read", read_token)
    return project
