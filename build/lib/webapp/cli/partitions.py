"""`flask partitions ...`: the daily partitions of the events table."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from webapp import db
from webapp.reports import cache as report_cache
from webapp.store import partitions

partitions_cli = AppGroup("partitions", help="Daily partitions of the events table.")


@partitions_cli.command("maintain")
def maintain_partitions_command():
    """Create the days ahead, split stray days out of the default partition, drop expired days
    (the workers do this every PARTITION_CHECK_SECONDS)."""
    config = current_app.config
    done = partitions.maintain(db.database, datetime.now(UTC), config["RETENTION_DAYS"],
                               config["PARTITION_DAYS_AHEAD"])
    report_cache.forget(current_app.extensions["redis"], done)  # reports over those days
    if done["skipped"]:
        click.echo("another process is maintaining the partitions")
    else:
        click.echo(f"created {len(done['created'])}, dropped {len(done['dropped'])} partition(s)")


@partitions_cli.command("list")
def list_partitions_command():
    """Partitions of `event` with their sizes."""
    for name, rows, size in partitions.sizes(db.database):
        click.echo(f"{name}\t~{rows} rows\t{size}")
