"""Command-line tasks: `flask db migrate`, `flask bootstrap`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import db
from .tenants import ensure_default_project

db_cli = AppGroup("db", help="Database schema.")

@db_cli.command("migrate")
def migrate_command():
    """Apply pending migrations."""
    applied = db.migrate()
    click.echo(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied
                                                       else ", schema is up to date"))


@click.command("bootstrap")
def bootstrap_command():
    """Migrate, then create or update the default project from WEBHOOK_API_KEY and API_TOKEN."""
    db.migrate()
    key, token = current_app.config["WEBHOOK_API_KEY"], current_app.config["API_TOKEN"]
    if not key or not token:
        raise click.UsageError("set WEBHOOK_API_KEY and API_TOKEN (`make run` generates them)")
    project = ensure_default_project(key, token)
    click.echo(f"project {project.slug!r} is ready")


def init_app(app) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(bootstrap_command)
