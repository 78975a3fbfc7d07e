"""Who is calling: the ingest key of `/webhook`, the read token (or session) of the read API."""

from __future__ import annotations

import threading
import time

from flask import request
from peewee import PeeweeException
from playhouse.pool import MaxConnectionsExceeded

from webapp.models import ApiKey, Membership, Project, UserSession, digest

_CACHE_SECONDS = 5  # a revoked key stops working within this time
_cache: dict[tuple[str, str], tuple[float, int | None]] = {}
_lookups: dict[tuple[str, str], threading.Lock] = {}


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
    """Key or token to project id, remembered briefly so ingestion does not query per request.

    One lookup per key at a time: thousands of tabs or senders arriving at once with the same
    key wait for the first one's answer (or, once the key is known, keep the last answer while
    it is refreshed) instead of each taking a database connection."""
    key = (kind, secret)
    hit = _cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    lock = _lookups.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=hit is None):
        return hit[1]  # another request is refreshing it
    try:
        hit = _cache.get(key) or hit
        if hit and hit[0] > time.monotonic():
            return hit[1]  # looked up while this request waited
        try:
            if kind == "slug":
                project_id = Project.select(Project.id).where(Project.slug == secret).scalar()
            else:
                project_id = ApiKey.project_id_for(kind, secret)
        except (PeeweeException, MaxConnectionsExceeded):
            if hit:  # the database is away: keep accepting keys it confirmed lately
                return hit[1]
            raise DatabaseUnavailable() from None
        if len(_cache) > 10_000:
            forget_keys()
        _cache[key] = (time.monotonic() + _CACHE_SECONDS, project_id)
        return project_id
    finally:
        lock.release()


def forget_keys() -> None:
    _cache.clear()
    _lookups.clear()


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
    return read_access()[0]


def read_access() -> tuple[int, tuple]:
    """The project a read is for (the read token's, or one the dashboard session may see),
    and who reads: ("token", hash, project) or ("session", hash, project), for still_allowed.

    `?project=<slug>` picks among a session's projects; with a token it must name the token's.
    """
    from webapp.tenancy import accounts

    slug = request.args.get("project") or None
    token = presented_key()
    if token is None:
        if accounts.current_user() is None:
            raise Unauthorized("Missing read token: send it as Authorization: Bearer")
        project_id = accounts.session_project_id(slug)
        if project_id is None:
            raise Forbidden("You may not see this project")
        return project_id, ("session", digest(accounts.current_session_id()), project_id)
    project_id = _project_id("read", token)
    if project_id is None:
        raise Unauthorized("Invalid read token")
    if slug is not None and _project_id("slug", slug) != project_id:
        raise Forbidden("This token may not read that project")
    return project_id, ("token", digest(token), project_id)


def still_allowed(principals: set[tuple]) -> set[tuple]:
    """Those of `principals` (from read_access) that may still read their project: the token
    is live, or the session is and its user is still a member of the project's organization."""
    from webapp.tenancy.accounts import oldest_session

    allowed: set[tuple] = set()
    tokens = {hashed for kind, hashed, _ in principals if kind == "token"}
    if tokens:
        rows = (ApiKey.select(ApiKey.key_hash, ApiKey.project)
                .where(ApiKey.key_hash.in_(list(tokens)), ApiKey.kind == "read",
                       ApiKey.revoked_at.is_null()).tuples())
        allowed |= {("token", hashed, project_id) for hashed, project_id in rows}
    sessions = {hashed for kind, hashed, _ in principals if kind == "session"}
    if sessions:
        rows = (UserSession.select(UserSession.token_hash, Project.id)
                .join(Membership, on=Membership.user == UserSession.user)
                .join(Project, on=Project.organization == Membership.organization)
                .where(UserSession.token_hash.in_(list(sessions)),
                       UserSession.created_at >= oldest_session()).tuples())
        allowed |= {("session", hashed, project_id) for hashed, project_id in rows}
    return allowed & principals


def project_id_for_slug(slug: str) -> int:
    """The project a signed delivery names in its URL (/webhook/<slug>)."""
    project_id = _project_id("slug", slug)
    if project_id is None:
        raise Unauthorized(f"No project {slug!r}")
    return project_id
