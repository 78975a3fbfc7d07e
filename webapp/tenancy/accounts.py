"""Dashboard users: passwords, the session, and which projects a user may see."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps

from flask import redirect, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import Membership, Organization, Project, User
from webapp.tenancy.tenants import DEFAULT_SLUG

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
        user.password_hash = generate_password_hash(password)
        user.save()
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


def log_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session.permanent = True


def log_out() -> None:
    session.clear()


def current_user() -> User | None:
    user_id = session.get("user_id")
    return User.get_or_none(User.id == user_id) if user_id else None


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def visible_projects(user: User) -> list[Project]:
    member = Membership.organization == Project.organization
    return list(Project.select().join(Membership, on=member)
                .where(Membership.user == user).order_by(Project.name))


def role_in(user: User, organization_id: int) -> str | None:
    row = (Membership.select(Membership.role)
           .where(Membership.user == user, Membership.organization == organization_id)
           .tuples().first())
    return row[0] if row else None


def session_project_id(slug: str | None) -> int | None:
    """The project the logged-in user asks for (or their first); None if none may be seen."""
    user = current_user()
    if user is None:
        return None
    projects = visible_projects(user)
    if slug is None:
        return projects[0].id if projects else None
    return next((p.id for p in projects if p.slug == slug), None)
