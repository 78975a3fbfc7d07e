"""`flask db migrate` and `flask bootstrap`: the schema, the default project and admin login."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from webapp import db
from webapp.tenancy.accounts import ensure_admin
from webapp.tenancy.tenants import ensure_default_project

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("migrate")
def migrate_command():
    """Apply pending migrations."""
    applied = db.migrate()
    click.echo(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied
                                                       else ", schema is up to date"))


@click.command("bootstrap")
def bootstrap_command():
    """Migrate; set up the default project (WEBHOOK_API_KEY, API_TOKEN) and admin login."""
    db.migrate()
    key, token = current_app.config["WEBHOOK_API_KEY"], current_app.config["API_TOKEN"]
    if not key or not token:
        raise click.UsageError("set WEBHOOK_API_KEY and API_TOKEN (`make run` generates them)")
    project = ensure_default_project(key, token)
    email, password = current_app.config["ADMIN_EMAIL"], current_app.config["ADMIN_PASSWORD"]
    if password:
        ensure_admin(email, password)
        click.echo(f"project {project.slug!r} is ready; {email} can log in")
    else:
        click.echo(f"project {project.slug!r} is ready (set ADMIN_PASSWORD to create a login)")
