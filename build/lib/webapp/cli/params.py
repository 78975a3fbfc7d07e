"""What the commands take: a project named as "<organization>/<slug>" (or a bare slug only one
project has), found by the same resolver as the pages and the API."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import ScriptInfo

from webapp.errors import NotFound
from webapp.models import Project
from webapp.tenancy import projects


class ProjectParam(click.ParamType):
    name = "project"

    def convert(self, value, param, ctx) -> Project:
        if isinstance(value, Project):
            return value
        if not current_app:  # `flask` pushes one for parameters; a test's CliRunner does not
            # (on the outermost context: it ends even when this refusal stops the command)
            ctx.find_root().with_resource(ctx.ensure_object(ScriptInfo).load_app()
                                          .app_context())
        try:
            return projects.find(value)
        except NotFound as exc:
            raise click.UsageError(exc.message, ctx) from None


PROJECT = ProjectParam()
