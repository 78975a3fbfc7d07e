"""Who is calling: the ingest key of `/webhook`, the read token (or session) of the read API."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request, session
from peewee import PeeweeException
from playhouse.pool import MaxConnectionsExceeded

from webapp.models import ApiKey, Project, SigningSecret

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # what a project's slug can be
_CACHE_SECONDS = 5  # a revoked key stops working within this time
_cache: dict[tuple[str, str], tuple[float, Any]] = {}
T = TypeVar("T")
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
    """Key or token (or slug) to project id, remembered briefly (see `remembered`); for the
    kinds "limits" and "project-limits", a key's or project's (requests, events) limits."""
    lookups = {
        "slug": lambda: Project.select(Project.id).where(Project.slug == secret).scalar(),
        "limits": lambda: ApiKey.limits_for(secret),
        "project-limits": lambda: Project.limits_for(secret),
    }
    default = lambda: ApiKey.project_id_for(kind, secret)  # noqa: E731
    return remembered((kind, secret), lookups.get(kind, default))


def signing_secrets(project_id: int) -> list[str]:
    """A project's live signing secrets, remembered like keys: a revoked one stops verifying
    within _CACHE_SECONDS; raises DatabaseUnavailable when PostgreSQL is away and they are
    not remembered."""
    return remembered(("signing", str(project_id)), lambda: SigningSecret.live_for(project_id))


def forget_signing_secrets(project_id: int) -> None:
    """After a change to a project's secrets: this process looks them up again at once (the
    others within _CACHE_SECONDS)."""
    _cache.pop(("signing", str(project_id)), None)


def remembered(key: tuple[str, str], lookup: Callable[[], T]) -> T:
    """`lookup()`, remembered for _CACHE_SECONDS so ingestion does not query per request.

    One lookup per key at a time: thousands of tabs or senders arriving at once with the same
    key wait for the first one's answer (or, once the key is known, keep the last answer while
    it is refreshed) instead of each taking a database connection."""
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
            value = lookup()
        except (PeeweeException, MaxConnectionsExceeded):
            if hit:  # the database is away: keep accepting keys it confirmed lately
                return hit[1]
            raise DatabaseUnavailable() from None
        if len(_cache) > 10_000:
            forget_keys()
        _cache[key] = (time.monotonic() + _CACHE_SECONDS, value)
        return value
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


def webhook_limits(key: str | None, slug: str | None) -> tuple[str | None, str | None]:
    """The /webhook limits (requests, events) of an ingest key (its own, else its project's)
    or of a project (for signed deliveries); None for the configured default. Remembered like
    the keys themselves."""
    kind, name = ("limits", key) if key else ("project-limits", slug)
    if name is None:
        return None, None
    try:
        return _project_id(kind, name) or (None, None)
    except DatabaseUnavailable:  # the key was confirmed: limit it by the default meanwhile
        return None, None


class Forbidden(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def read_project_id() -> int:
    """The project a read is for: the read token's, or one the dashboard session may see.

    `?project=<slug>` picks among a session's projects; with a token it must name the token's.
    """
    from webapp.tenancy import accounts

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
    if not SLUG.fullmatch(slug):  # not one (a NUL would not even reach PostgreSQL)
        raise Unauthorized(f"No project {slug!r}")
    project_id = _project_id("slug", slug)
    if project_id is None:
        raise Unauthorized(f"No project {slug!r}")
    return project_id
