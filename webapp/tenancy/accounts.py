"""Dashboard users: passwords, logging in and out, and server-side sessions."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import wraps

from flask import current_app, redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import Membership, Organization, User, UserSession, digest
from webapp.tenancy.projects import DEFAULT_SLUG

ROLES = ("owner", "admin", "viewer")
_DUMMY_HASH = generate_password_hash("pulseboard: no such user")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def ensure_admin(email: str, password: str) -> User:
    """The first admin (from ADMIN_EMAIL / ADMIN_PASSWORD): owner of the default organization."""
    email = normalize_email(email)
    user = User.get_or_none(User.email == email)
    if user is None:
        user = User.create(email=email, password_hash=generate_password_hash(password))
    elif not check_password_hash(user.password_hash, password):
        set_password(user, password)
    organization = Organization.get(Organization.slug == DEFAULT_SLUG)
    Membership.insert(user=user, organization=organization, role="owner").on_conflict(
        conflict_target=[Membership.user, Membership.organization],
        update={Membership.role: "owner"}).execute()
    return user


def create_user(email: str, password: str) -> User:
    return User.create(email=normalize_email(email), password_hash=generate_password_hash(password))


def authenticate(email: str, password: str) -> User | None:
    user = User.get_or_none(User.email == normalize_email(email))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same time whether or not the user exists
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    User.update(last_login_at=datetime.now(UTC)).where(User.id == user.id).execute()
    return user


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def set_password(user: User, password: str, keep: str | None = None) -> None:
    """A new password; every session of the user ends but `keep` (the one changing it)."""
    User.update(password_hash=generate_password_hash(password)).where(User.id == user.id).execute()
    end_sessions(user.id, keep=keep)


def log_in(user: User) -> None:
    """A new server-side session: the signed cookie carries only its random id."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    UserSession.create(token_hash=digest(session_id), user=user)
    UserSession.delete().where(UserSession.user == user,
                               UserSession.created_at < oldest_session()).execute()
    session["sid"] = session_id
    session.permanent = True
    request.environ.pop(_USER_KEY, None)


def log_out() -> None:
    """End this session on the server too: a saved copy of the cookie no longer works."""
    if session_id := session.get("sid"):
        UserSession.delete().where(UserSession.token_hash == digest(session_id)).execute()
    session.clear()
    request.environ.pop(_USER_KEY, None)


def end_sessions(user_id: int, keep: str | None = None) -> None:
    """End every session of a user (but `keep`, a session id); their streams end within 5 s."""
    query = UserSession.delete().where(UserSession.user == user_id)
    if keep:
        query = query.where(UserSession.token_hash != digest(keep))
    query.execute()


def current_session_id() -> str | None:
    return session.get("sid") if current_user() is not None else None


_USER_KEY, _UNSET = "pulseboard.user", object()


def current_user() -> User | None:
    """The user of this request's session, if the server still knows that session."""
    cached = request.environ.get(_USER_KEY, _UNSET)  # once per request
    if cached is _UNSET:
        cached = request.environ[_USER_KEY] = _session_user(session.get("sid"))
    return cached


def _session_user(session_id) -> User | None:
    if not isinstance(session_id, str):
        return None
    return (User.select().join(UserSession)
            .where(UserSession.token_hash == digest(session_id),
                   UserSession.created_at >= oldest_session())
            .first())


def oldest_session() -> datetime:
    """Sessions started before this have lapsed (PERMANENT_SESSION_LIFETIME, 31 days)."""
    return datetime.now(UTC) - current_app.permanent_session_lifetime


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
