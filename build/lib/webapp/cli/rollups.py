"""`flask rollups rebuild`: per-minute and per-hour rollups recomputed from raw events."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.reads import stats
from webapp.store import rollups

rollups_cli = AppGroup("rollups", help="Per-minute and per-hour rollups.")


@rollups_cli.command("rebuild")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              default=None, help="first UTC day to rebuild (default: the oldest event's)")
def rebuild_rollups_command(since):
    """Recompute rollups and unique-user sketches from raw events, a day at a time."""
    start = since.replace(tzinfo=UTC) if since else rollups.oldest_event()
    if start is None:
        click.echo("no events: nothing to rebuild")
        return
    redis = current_app.extensions["redis"]
    chunks = rollups.days(start, datetime.now(UTC))
    with click.progressbar(chunks, label="rebuilding rollups", show_pos=True,
                           item_show_func=lambda d: d and f"{d:%Y-%m-%d}") as bar:
        for day in bar:
            rollups.rebuild_day(day)
            rollups.rebuild_sketches(redis, day)
    stats.invalidate_all(redis)
    click.echo(f"rebuilt {len(chunks)} day(s) of rollups from {chunks[0]:%Y-%m-%d}")
