"""`flask deadletter ...`: batches that failed after their retries, listed and replayed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.ingest import accept
from webapp.store import deadletters

deadletter_cli = AppGroup("deadletter", help="Batches that failed after their retries.")


@deadletter_cli.command("list")
def list_dead_letters_command():
    """Dead letters not yet replayed."""
    letters = list(deadletters.pending())
    for letter in letters:
        click.echo(f"#{letter.id}\tproject {letter.project_id}\t{letter.events} events\t"
                   f"{letter.failed_at:%Y-%m-%d %H:%M:%S}\t{letter.error[:120]}")
    click.echo(f"{len(letters)} dead letter(s) waiting")


@deadletter_cli.command("replay")
@click.option("--id", "letter_id", type=int, default=None, help="only this dead letter")
def replay_dead_letters_command(letter_id):
    """Queue dead letters again; storing is idempotent, so a replay never duplicates."""
    letters = [letter for letter in deadletters.pending() if letter_id in (None, letter.id)]
    celery = current_app.extensions["celery"]
    with click.progressbar(letters, label="replaying dead letters") as bar:
        for letter in bar:
            accept.publish(celery, letter.project_id, letter.payload,
                           [f"replay-of-dead-letter-{letter.id}"])
            deadletters.mark_replayed(letter)  # storing is idempotent: a replay never duplicates
    click.echo(f"replayed {len(letters)} dead letter(s), "
               f"{sum(letter.events for letter in letters)} events")
