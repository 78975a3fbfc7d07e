"""The navigation of a project's pages (templates/_nav.html, under base.html's top bar): the
project and its time zone, and a link to every page of it (dashboard, boards, each report,
a user's timeline, share links, manage), the current one marked."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for

from webapp.models import Project
from webapp.reports import params
from webapp.tenancy import accounts, policy

REPORT_NAMES = {"funnel": "Funnel", "retention": "Retention", "paths": "Paths",
                "breakdown": "Breakdown", "trends": "Trends"}


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    current: bool = False


@dataclass(frozen=True)
class Nav:
    """What a project page's navigation shows."""

    project: str  # its name
    time_zone: str
    zone_href: str | None  # where its time zone is changed, for a user whose role may
    pages: list[Link]  # dashboard, boards
    reports: list[Link]
    users_action: str  # the form that opens a user's timeline by id
    user_id: str  # the id shown, on a user's page
    more: list[Link]  # share links, manage


def link_of(project: Project) -> str:
    """The project as its URLs name it: the slug (or handle) the user's list gave it."""
    return getattr(project, "link", None) or project.handle


def current_page() -> str:
    """Which page this request shows: "dashboard", a report's kind, "users", "shares",
    "boards", "manage", or ""."""
    endpoint = request.endpoint or ""
    if endpoint == "dashboard.index":
        return "dashboard"
    if endpoint == "report_pages.report_page":
        return (request.view_args or {}).get("kind", "")
    if endpoint.startswith("report_pages.user_page"):
        return "users"
    if endpoint.startswith("shares."):
        return "shares"
    if endpoint.startswith("manage.notes."):
        return "notes"
    if endpoint.startswith("manage."):
        return "manage"
    if "/boards" in request.path:
        return "boards"
    return ""


def links(project: Project | None) -> Nav | None:
    """The navigation of `project`'s pages for the logged-in user; None without a project or
    a user who may see it (a shared page, logged out, shows none)."""
    user = accounts.current_user()
    if project is None or user is None:
        return None
    role = policy.role_in(user, project.organization_id)
    if role is None:
        return None
    slug, here = link_of(project), current_page()
    manages = role in policy.MANAGERS
    settings = url_for("manage.projects.project", slug=slug) if manages else None
    pages = [Link("Dashboard", url_for("dashboard.index", project=slug), here == "dashboard"),
             Link("Boards", url_for("boards.index", slug=slug), here == "boards"),
             Link("Notes", url_for("manage.notes.annotations", slug=slug), here == "notes")]
    reports = [Link(REPORT_NAMES.get(kind, kind.capitalize()),
                    url_for("report_pages.report_page", slug=slug, kind=kind), here == kind)
               for kind in params.MODULES]
    more = []
    if manages:
        more.append(Link("Share links", url_for("shares.shares", slug=slug), here == "shares"))
    more.append(Link("Manage", settings or url_for("manage.account.index"), here == "manage"))
    return Nav(project.name, project.time_zone, settings, pages, reports,
               url_for("report_pages.user_page", slug=slug),
               request.args.get("id", "") if here == "users" else "", more)
