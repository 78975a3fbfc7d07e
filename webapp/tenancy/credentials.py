"""Who is calling: the ingest key of `/webhook`, the read token (or session) of the read API."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from peewee import PeeweeException
from playhouse.pool import MaxConnectionsExceeded

from webapp.models import (
    ApiKey,
    Membership,
    Organization,
    Project,
    ShareLink,
    SigningSecret,
    UserSession,
    digest,
    split_handle,
)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # what a project's or organization's slug can be
_CACHE_SECONDS = 5  # a revoked key stops working within this time
MAX_UNKNOWN = 10_000  # unknown keys remembered; a flood of them forgets only unknown ones
_known: dict[tuple[str, str], tuple[float, Any]] = {}  # keys the database confirmed, and values
_unknown: dict[tuple[str, str], float] = {}
T = TypeVar("T")
CREDENTIALS = ("ingest", "read", "slug")  # kinds whose unknown values are refusals
_lookups: dict[tuple[str, str], threading.Lock] = {}
# Called with 0 before an unconfirmed key is looked up, with 1 when a request is refused for a
# wrong or missing key (set by the rate limits: it counts refusals per address and raises once
# the caller's address has had too many).
lookup_guard: Callable[[int], None] | None = None


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


def _project_id(kind: str, secret: str) -> Any:
    """Key or token (or project handle) to project id, remembered briefly (see `remembered`);
    for "limits" (an ingest key) and "project-limits" (a project id), the (requests, events)
    limits."""
    lookups = {
        "limits": lambda: ApiKey.limits_for(secret),
        "project-limits": lambda: Project.limits_for(int(secret)),
    }
    lookup = lookups.get(kind, lambda: _look_up(kind, secret))
    return remembered((kind, secret), lookup, credential=kind in CREDENTIALS)


def signing_secrets(project_id: int) -> list[str]:
    """A project's live signing secrets, remembered like keys: a revoked one stops verifying
    within _CACHE_SECONDS; raises DatabaseUnavailable when PostgreSQL is away and they are
    not remembered."""
    return remembered(("signing", str(project_id)), lambda: SigningSecret.live_for(project_id))


def forget_signing_secrets(project_id: int) -> None:
    """After a change to a project's secrets: this process looks them up again at once (the
    others within _CACHE_SECONDS, or at their first signature that matches none they know)."""
    _known.pop(("signing", str(project_id)), None)


RELOAD_SECONDS = 1.0  # a project's secrets are looked up again after a miss at most this often
_reloaded: dict[int, float] = {}  # project id -> when its secrets were last looked up on a miss


def signing_secrets_after_miss(project_id: int) -> list[str]:
    """A project's live secrets after a signature matched none of those remembered: looked up
    again (a secret added by another process, the command line or another web process, is not
    among them for up to _CACHE_SECONDS, and a sender that rotates at once must not get 401),
    at most once per RELOAD_SECONDS per project in this process, so a flood of bad signatures
    costs the database one query a second. Within that second, or while PostgreSQL is away,
    the remembered ones."""
    now = time.monotonic()
    if now - _reloaded.get(project_id, float("-inf")) >= RELOAD_SECONDS:
        if len(_reloaded) >= MAX_UNKNOWN:
            _reloaded.clear()
        _reloaded[project_id] = now
        key = ("signing", str(project_id))
        if hit := _known.get(key):  # stale: looked up again, and kept if the database is away
            _known[key] = (0.0, hit[1])
    return signing_secrets(project_id)


def remembered(key: tuple[str, str], lookup: Callable[[], T], credential: bool = False) -> T:
    """`lookup()`, remembered for _CACHE_SECONDS so ingestion does not query per request.

    One lookup per key at a time: thousands of tabs or senders arriving at once with the same
    key wait for the first one's answer (or, once the key is known, keep the last answer while
    it is refreshed) instead of each taking a database connection. For a `credential`, None
    means unknown: valid and unknown ones are remembered apart, so no number of unknown keys
    can push a valid one out, and each refusal counts against the caller's address."""
    hit = _known.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    if credential and hit is None:
        _guard(0)
        if _unknown.get(key, 0) > time.monotonic():
            _guard(1)
            return None
    lock = _lookups.setdefault(key, threading.Lock())
    if not lock.acquire(blocking=hit is None):
        return hit[1]  # another request is refreshing it
    try:
        fresh = _known.get(key)
        if fresh and fresh[0] > time.monotonic():
            return fresh[1]  # looked up while this request waited
        if credential and hit is None and _unknown.get(key, 0) > time.monotonic():
            _guard(1)
            return None
        try:
            value = lookup()
        except (PeeweeException, MaxConnectionsExceeded):
            if hit:  # the database is away: keep accepting keys it confirmed lately
                return hit[1]
            raise DatabaseUnavailable() from None
        _remember(key, value, credential)
        if credential and value is None:
            _guard(1)
        return value
    finally:
        lock.release()
        if key not in _known:
            _lookups.pop(key, None)


def _guard(refused: int) -> None:
    if lookup_guard is not None:
        lookup_guard(refused)


def _look_up(kind: str, secret: str) -> int | None:
    if kind == "slug":  # a project's handle: "<org>/<slug>", or a bare slug (the oldest)
        organization, slug = split_handle(secret)
        query = Project.select(Project.id).where(Project.slug == slug)
        if organization is not None:
            query = query.join(Organization).where(Organization.slug == organization)
        return query.order_by(Project.id).scalar()
    return ApiKey.project_id_for(kind, secret)


_names: dict[int, tuple[str, str]] = {}  # project id -> (organization slug, slug); never change


def names_project(project_id: int, handle: str) -> bool:
    """Whether a handle ("<org>/<slug>" or a bare slug) names this project."""
    if project_id not in _names:
        row = (Project.select(Organization.slug, Project.slug).join(Organization)
               .where(Project.id == project_id).tuples().first())
        if row is None:
            return False
        _names[project_id] = row
    organization, slug = split_handle(handle)
    return _names[project_id][1] == slug and organization in (None, _names[project_id][0])


def _remember(key: tuple[str, str], value: Any, credential: bool) -> None:
    expires = time.monotonic() + _CACHE_SECONDS
    if credential and value is None:
        _known.pop(key, None)
        if len(_unknown) >= MAX_UNKNOWN:
            _unknown.clear()
        _unknown[key] = expires
    else:
        _unknown.pop(key, None)
        _known[key] = (expires, value)


def forget_keys() -> None:
    _names.clear()
    _reloaded.clear()
    _known.clear()
    _unknown.clear()
    _lookups.clear()


def ingest_project_id() -> int:
    return project_for_ingest_key(presented_key("X-API-Key"))


def project_for_ingest_key(key: str | None) -> int:
    """The project of an ingest key; raises Unauthorized."""
    if key is None:
        _guard(1)
        raise Unauthorized("Missing API key: send it as X-API-Key or Authorization: Bearer")
    project_id = _project_id("ingest", key)
    if project_id is None:
        raise Unauthorized("Invalid API key")
    return project_id


def confirmed_ingest_key(key: str | None) -> tuple[int, tuple] | None:
    """(project id, its /webhook limits as `webhook_limits` gives them) of an ingest key whose
    project and limits were both looked up within the last _CACHE_SECONDS; None when either
    needs a lookup. Touches neither the database nor Flask."""
    now = time.monotonic()
    project = _known.get(("ingest", key)) if key else None
    limits = _known.get(("limits", key)) if project else None
    if project is None or limits is None or project[0] <= now or limits[0] <= now:
        return None
    return project[1], limits[1] or (None, None)


def webhook_limits(key: str | None, project_id: int | None) -> tuple[str | None, str | None]:
    """The /webhook limits (requests, events) of an ingest key (its own, else its project's)
    or of a project (for signed deliveries); None for the configured default. Remembered like
    the keys themselves."""
    kind, name = ("limits", key) if key else ("project-limits", project_id)
    if name is None:
        return None, None
    try:
        return _project_id(kind, str(name)) or (None, None)
    except DatabaseUnavailable:  # the key was confirmed: limit it by the default meanwhile
        return None, None


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
            _guard(1)
            raise Unauthorized("Missing read token: send it as Authorization: Bearer")
        project_id = accounts.session_project_id(slug)
        if project_id is None:
            raise Forbidden("You may not see this project")
        return project_id, ("session", digest(accounts.current_session_id()), project_id)
    project_id = _project_id("read", token)
    if project_id is None:
        raise Unauthorized("Invalid read token")
    if slug is not None and not names_project(project_id, slug):
        raise Forbidden("This token may not read that project")
    return project_id, ("token", digest(token), project_id)


def still_allowed(principals: set[tuple]) -> set[tuple]:
    """Those of `principals` (from read_access, or a shared dashboard's link) that may still
    read their project: the token or the share link is live, or the session is and its user is
    still a member of the project's organization."""
    from webapp.tenancy.accounts import oldest_session

    allowed: set[tuple] = set()
    tokens = {hashed for kind, hashed, _ in principals if kind == "token"}
    if tokens:
        rows = (ApiKey.select(ApiKey.key_hash, ApiKey.project)
                .where(ApiKey.key_hash.in_(list(tokens)), ApiKey.kind == "read",
                       ApiKey.revoked_at.is_null()).tuples())
        allowed |= {("token", hashed, project_id) for hashed, project_id in rows}
    shares = {link_id for kind, link_id, _ in principals if kind == "share"}
    if shares:
        rows = (ShareLink.select(ShareLink.id, ShareLink.project)
                .where(ShareLink.id.in_(list(shares)), ShareLink.revoked_at.is_null()).tuples())
        allowed |= {("share", link_id, project_id) for link_id, project_id in rows}
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
    """The project a signed delivery names in its URL (/webhook/<org>/<slug>, or
    /webhook/<slug> for the oldest project of that slug)."""
    if not all(SLUG.fullmatch(part) for part in slug.split("/", 1)):  # not one (a NUL
        raise Unauthorized(f"No project {slug!r}")  # would not even reach PostgreSQL)
    project_id = _project_id("slug", slug)
    if project_id is None:
        raise Unauthorized(f"No project {slug!r}")
    return project_id
