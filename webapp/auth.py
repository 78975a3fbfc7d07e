"""Who is calling: the ingest key of `/webhook`, the read token (or session) of the read API."""

from __future__ import annotations

import time

from flask import request, session
from peewee import PeeweeException

from .models import ApiKey, Project

_CACHE_SECONDS = 5  # a revoked key stops working within this time
_cache: dict[tuple[str, str], tuple[float, int | None]] = {}


class DatabaseUnavailable(Exception):
    """A key could not be checked because PostgreSQL is unreachable."""


class Unauthorized(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def presented_key(*headers: str, source=None) -> str | None:
    """The key in the first of these headers, or in `Authorization: Bearer` (of the current
    request, or of `source`, a mapping of headers)."""
    source = request.headers if source is None else source
    for name in headers:
        if value := source.get(name):
            return value.strip()
    scheme, _, value = source.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _project_id(kind: str, secret: str) -> int | None:
    """Key or token to project id, remembered briefly so ingestion does not query per request."""
    now = time.monotonic()
    hit = _cache.get((kind, secret))
    if hit and hit[0] > now:
        return hit[1]
    try:
        if kind == "slug":
            project_id = Project.select(Project.id).where(Project.slug == secret).scalar()
        else:
            project_id = ApiKey.project_id_for(kind, secret)
    except PeeweeException:
        if hit:  # the database is away: keep accepting keys it confirmed lately
            return hit[1]
        raise DatabaseUnavailable() from None
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[(kind, secret)] = (now + _CACHE_SECONDS, project_id)
    return project_id


def forget_keys() -> None:
    _cache.clear()


def ingest_project_id() -> int:
    return project_for_ingest_key(presented_key("X-API-Key"))


def project_for_ingest_key(key: str | None) -> int:
    """The project of an ingest key; raises Unauthorized."""
    if key is None:
        raise Unauthorized("Missing API key: send it as X-API-Key or Authorization: Bearer")
    project_id = _project_id("ingest", key)
    if project_id is None:
        raise Unauthorized("Invalid API key")
    return project_id


class Forbidden(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def read_project_id() -> int:
    """The project a read is for: the read token's, or one the dashboard session may see.

    `?project=<slug>` picks among a session's projects; with a token it must name the token's.
    """
    from . import accounts

    slug = request.args.get("project") or None
    token = presented_key()
    if token is None:
        if "user_id" not in session:
            raise Unauthorized("Missing read token: send it as Authorization: Bearer")
        project_id = accounts.session_project_id(slug)
        if project_id is None:
            raise Forbidden("You may not see this project")
        return project_id
    project_id = _project_id("read", token)
    if project_id is None:
        raise Unauthorized("Invalid read token")
    if slug is not None and _project_id("slug", slug) != project_id:
        raise Forbidden("This token may not read that project")
    return project_id


def project_id_for_slug(slug: str) -> int:
    """The project a signed delivery names in its URL (/webhook/<slug>)."""
    project_id = _project_id("slug", slug)
    if project_id is None:
        raise Unauthorized(f"No project {slug!r}")
    return project_id
