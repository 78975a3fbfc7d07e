"""`flask properties rebuild`: the pickers' property index made again from recent events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.cli.params import PROJECT
from webapp.models import Project
from webapp.store import properties

properties_cli = AppGroup("properties", help="The property index the pickers read.")


@properties_cli.command("rebuild")
@click.argument("project", type=PROJECT, required=False)
@click.option("--days", type=click.IntRange(1, 400), default=30, show_default=True,
              help="count the events of this many days back")
def rebuild_properties_command(project, days):
    """Make the metadata keys and top values of PROJECT (default: every project) again from
    its events of the last DAYS days. The workers keep the index as they store events: this
    fills it for an install that had none, or after Redis lost it."""
    since = datetime.now(UTC) - timedelta(days=days)
    chosen = [project] if project is not None else list(Project.select().order_by(Project.id))
    redis = current_app.extensions["redis"]
    for each in chosen:
        read = properties.rebuild(redis, each.id, since)
        click.echo(f"{each.handle}: {read:,} events of the last {days} days indexed")
