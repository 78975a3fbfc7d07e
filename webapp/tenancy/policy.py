"""Who may see what: the projects a user's organizations hold and the role they have there,
the project a read is for (a read token's, or one the session may see), and whether the
readers of an open stream may still read."""

from __future__ import annotations

from flask import request

from webapp.errors import Forbidden, NotFound, Unauthorized
from webapp.models import (
    ApiKey,
    Membership,
    Organization,
    Project,
    ShareLink,
    User,
    UserSession,
    digest,
)
from webapp.tenancy import accounts, credentials, projects
from webapp.tenancy.credentials import presented_key
from webapp.tenancy.projects import Handle

MANAGERS = ("owner", "admin")


def visible_projects(user: User) -> list[Project]:
    """The user's projects (organizations loaded), each with `link`: its slug, or its handle
    "<org>/<slug>" where another of the user's projects has the same slug."""
    member = Membership.organization == Project.organization
    found = list(Project.select(Project, Organization).join(Organization)
                 .switch(Project).join(Membership, on=member)
                 .where(Membership.user == user).order_by(Project.name, Organization.slug))
    slugs = [p.slug for p in found]
    for project in found:
        project.link = project.slug if slugs.count(project.slug) == 1 else project.handle
    return found


def role_in(user: User, organization_id: int) -> str | None:
    row = (Membership.select(Membership.role)
           .where(Membership.user == user, Membership.organization == organization_id)
           .tuples().first())
    return row[0] if row else None


def require_role(organization_id: int, roles=MANAGERS) -> str:
    """The logged-in user's role in the organization, when it is one of `roles`: another
    tenant's organization does not exist for them (404), a viewer may not change it (403)."""
    role = role_in(accounts.current_user(), organization_id)
    if role is None:
        raise NotFound("No such organization for your account")
    if role not in roles:
        raise Forbidden("Your role in this organization may not change it")
    return role


def user_project(handle: str | Handle) -> tuple[User, list[Project], Project]:
    """(the logged-in user, their projects, the one `handle` names); NotFound for any other."""
    user = accounts.current_user()
    visible = visible_projects(user)
    return user, visible, projects.find(handle, visible)


def managed_project(handle: str | Handle) -> Project:
    """The logged-in user's project `handle` names, when their role may change it."""
    project = user_project(handle)[2]
    require_role(project.organization_id)
    return project


def session_project_id(handle: str | None) -> int | None:
    """The project the logged-in user asks for (or their first); None if none may be seen."""
    user = accounts.current_user()
    if user is None:
        return None
    visible = visible_projects(user)
    if handle is None:
        return visible[0].id if visible else None
    try:
        return projects.find(handle, visible).id
    except NotFound:
        return None


def read_project_id() -> int:
    return read_access()[0]


def read_access() -> tuple[int, tuple]:
    """The project a read is for (the read token's, or one the dashboard session may see),
    and who reads: ("token", hash, project) or ("session", hash, project), for still_allowed.

    `?project=<slug>` picks among a session's projects; with a token it must name the token's.
    """
    handle = request.args.get("project") or None
    token = presented_key()
    if token is None:
        if accounts.current_user() is None:
            credentials.refused()
            raise Unauthorized("Missing read token: send it as Authorization: Bearer")
        project_id = session_project_id(handle)
        if project_id is None:
            raise Forbidden("You may not see this project")
        return project_id, ("session", digest(accounts.current_session_id()),
                            project_id)
    project_id = credentials.project_of("read", token)
    if project_id is None:
        raise Unauthorized("Invalid read token")
    if handle is not None and not credentials.names_project(project_id, handle):
        raise Forbidden("This token may not read that project")
    return project_id, ("token", digest(token), project_id)


def annotation_project_id(change: bool = False) -> int:
    """The project whose annotations a request may list (an annotation key's, a read token's,
    or one the dashboard session may see) or, with `change`, write (an annotation key's only:
    the API takes no cookie for a change, the pages change notes with their forms).

    A key is looked up once for both kinds it may be (one refusal counted for a wrong one);
    `?project=` must then name the key's own project."""
    key = presented_key("X-API-Key")
    if key is None:
        if not change:
            return read_project_id()
        credentials.refused()
        raise Unauthorized("Missing annotation key: send it as X-API-Key or Authorization: Bearer")
    found = credentials.project_of("annotations", key)
    if found is None:
        raise Unauthorized("Invalid annotation key" if change
                           else "Invalid annotation key or read token")
    project_id, kind = found
    if change and kind != "annotate":
        raise Forbidden("A read token may list annotations; writing one takes an annotation key")
    handle = request.args.get("project") or None
    if handle is not None and not credentials.names_project(project_id, handle):
        raise Forbidden("This key may not reach that project")
    return project_id


def still_allowed(principals: set[tuple]) -> set[tuple]:
    """Those of `principals` (from read_access, or a shared dashboard's link) that may still
    read their project: the token or the share link is live, or the session is and its user is
    still a member of the project's organization."""
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
                       UserSession.created_at >= accounts.oldest_session()).tuples())
        allowed |= {("session", hashed, project_id) for hashed, project_id in rows}
    return allowed & principals
