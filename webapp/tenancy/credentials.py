"""Who is calling, by credential: the ingest key of `/webhook`, a read token, an annotation
key, a signed delivery's project, and the short-lived memory of what the database said of
each (a revoked key stops working within seconds; a flood of unknown keys costs no database
time)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from peewee import PeeweeException
from playhouse.pool import MaxConnectionsExceeded

from webapp.errors import DatabaseUnavailable, Unauthorized
from webapp.models import ApiKey, Organization, Project, SigningSecret
from webapp.tenancy import projects
from webapp.tenancy.projects import Handle

_CACHE_SECONDS = 5  # a revoked key stops working within this time
MAX_UNKNOWN = 10_000  # unknown keys remembered; a flood of them forgets only unknown ones
_known: dict[tuple[str, str], tuple[float, Any]] = {}  # keys the database confirmed, and values
_unknown: dict[tuple[str, str], float] = {}
T = TypeVar("T")
# kinds whose unknown values are refusals; "annotations": an annotation key or a read token
CREDENTIALS = ("ingest", "read", "slug", "annotations")
_lookups: dict[tuple[str, str], threading.Lock] = {}
# Called with 0 before an unconfirmed key is looked up, with 1 when a request is refused for a
# wrong or missing key (set by the rate limits: it counts refusals per address and raises once
# the caller's address has had too many).
lookup_guard: Callable[[int], None] | None = None


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


def project_of(kind: str, secret: str) -> Any:
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


def refused() -> None:
    """A request refused for a missing credential: counted against the caller's address."""
    _guard(1)


def _look_up(kind: str, secret: str) -> Any:
    if kind == "slug":  # a signed delivery's project: "<org>/<slug>", or a bare slug (the oldest)
        return projects.oldest_id(secret)
    if kind == "annotations":  # (project id, kind): who may list annotations, and who change them
        return ApiKey.live(("annotate", "read"), secret).first()
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
    return Handle.parse(handle).names(*_names[project_id])


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
    project_id = project_of("ingest", key)
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
        return project_of(kind, str(name)) or (None, None)
    except DatabaseUnavailable:  # the key was confirmed: limit it by the default meanwhile
        return None, None


def project_id_for_slug(slug: str) -> int:
    """The project a signed delivery names in its URL (/webhook/<org>/<slug>, or
    /webhook/<slug> for the oldest project of that slug)."""
    if not Handle.parse(slug).well_formed:  # names none (a NUL would not reach PostgreSQL)
        raise Unauthorized(f"No project {slug!r}")
    project_id = project_of("slug", slug)
    if project_id is None:
        raise Unauthorized(f"No project {slug!r}")
    return project_id
