"""Which project a name means: "<organization>/<slug>", or a bare slug where only one project
of those in question has it. Pages and API routes take it through the `project` URL converter,
commands through `find`; one SLUG pattern for every organization and project."""

from __future__ import annotations

import re
from typing import NamedTuple

from werkzeug.routing import BaseConverter

from webapp.errors import NotFound
from webapp.models import Organization, Project

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # an organization's or a project's: at most 63
DEFAULT_SLUG = "default"


class Handle(NamedTuple):
    """A project's name as given: its organization's slug (None for a bare slug) and its own."""

    organization: str | None
    slug: str

    @classmethod
    def parse(cls, text: str) -> Handle:
        organization, separator, slug = text.partition("/")
        return cls(organization, slug) if separator else cls(None, text)

    def __str__(self) -> str:
        return self.slug if self.organization is None else f"{self.organization}/{self.slug}"

    @property
    def well_formed(self) -> bool:
        parts = (self.slug,) if self.organization is None else (self.organization, self.slug)
        return all(SLUG.fullmatch(part) for part in parts)

    def names(self, organization: str, slug: str) -> bool:
        """Whether this names the project `slug` of `organization`."""
        return self.slug == slug and self.organization in (None, organization)


def find(handle: str | Handle, among: list[Project] | None = None) -> Project:
    """The project a handle names, among these (a user's, their organizations loaded) or among
    all; raises NotFound when it names none, or (a bare slug) several, saying which."""
    handle = handle if isinstance(handle, Handle) else Handle.parse(handle)
    if among is None:
        found = list(_matching(handle).limit(2)) if handle.well_formed else []
    else:
        found = [p for p in among if handle.names(p.organization.slug, p.slug)]
    if len(found) == 1:
        return found[0]
    if found:
        raise NotFound(f"Several {'of your ' if among is not None else ''}organizations have a "
                       f"project {handle.slug!r}: name it as <organization>/{handle.slug}")
    raise NotFound("No such project for your account" if among is not None
                   else f"no project {str(handle)!r}")


def oldest_id(handle: str | Handle) -> int | None:
    """The project a signed delivery's URL names (/webhook/<org>/<slug>), or for a bare slug the
    oldest project of that slug (senders set up before slugs were only unique per organization
    keep reaching theirs, whoever takes the slug later)."""
    handle = handle if isinstance(handle, Handle) else Handle.parse(handle)
    if not handle.well_formed:  # (a NUL would not even reach PostgreSQL)
        return None
    return _matching(handle, Project.id).order_by(Project.id).scalar()


def _matching(handle: Handle, *fields):
    query = (Project.select(*(fields or (Project, Organization))).join(Organization)
             .where(Project.slug == handle.slug))
    if handle.organization is not None:
        query = query.where(Organization.slug == handle.organization)
    return query


class ProjectConverter(BaseConverter):
    """`<project:slug>` in a route: "<org>/<slug>" or a bare slug, given to the view as a
    Handle (for `find`); `url_for` takes a Handle, a handle's text or a Project. Anything of one
    or two parts matches, so that a name of no project is the page's own 404, not the router's."""

    regex = r"[^/]+(?:/[^/]+)?"
    part_isolating = False

    def to_python(self, value: str) -> Handle:
        return Handle.parse(value)

    def to_url(self, value) -> str:
        return super().to_url(value.handle if isinstance(value, Project) else str(value))


def init_app(app) -> None:
    app.url_map.converters["project"] = ProjectConverter
