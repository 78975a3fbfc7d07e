"""`flask annotations ...`: a project's notes on its charts (a deploy, a campaign) from the
command line: add one at an instant or over a range, list them, delete one."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from webapp.annotations import notes
from webapp.annotations.markers import when
from webapp.cli.params import PROJECT
from webapp.errors import BadAnnotation
from webapp.reads.ranges import parse_range

annotations_cli = AppGroup("annotations", help="Notes on a project's charts.")


@annotations_cli.command("add")
@click.argument("project", type=PROJECT)
@click.argument("text")
@click.option("--at", "starts_at", default=None,
              help="when (ISO-8601 instant, or a date; no offset: the project's zone); now "
                   "when omitted")
@click.option("--until", "ends_at", default=None, help="the end of a range (as --at)")
def add_command(project, text, starts_at, ends_at):
    """Add a note, e.g. `annotations add acme/shop "deployed v2.3"`."""
    body = {"text": text}
    if starts_at is not None:
        body["startsAt"] = starts_at
    if ends_at is not None:
        body["endsAt"] = ends_at
    try:
        values = notes.validate(body, project.time_zone, datetime.now(UTC))
    except BadAnnotation as exc:
        raise click.UsageError("; ".join(exc.problems)) from None
    row = notes.create(project.id, values, "command")
    click.echo(f"annotation #{row.id} {_line(row, project.time_zone)}")


@annotations_cli.command("list")
@click.argument("project", type=PROJECT)
@click.option("--from", "start", default=None, help="from this date or instant")
@click.option("--to", "end", default=None, help="to this date (included) or instant")
def list_command(project, start, end):
    """A project's notes, newest first: number, time in its zone, text and who wrote it."""
    lower = upper = None
    if start or end:
        problems: list[str] = []
        lower, upper = parse_range(start, end, project.time_zone, datetime.now(UTC), problems)
        if problems:
            raise click.UsageError("; ".join(problems))
    for row in notes.between(project.id, lower, upper):
        click.echo(f"#{row.id}\t{_line(row, project.time_zone)}\t{notes.author(row)}")


@annotations_cli.command("delete")
@click.argument("project", type=PROJECT)
@click.argument("number", type=click.IntRange(min=1, max=2**31 - 1))
def delete_command(project, number):
    """Delete a note by its number (`annotations list` shows them)."""
    if not notes.delete(project.id, number):
        raise click.UsageError(f"no annotation #{number} in {project.handle!r}")
    click.echo(f"annotation #{number} deleted")


def _line(row, zone: str) -> str:
    return f"{when(notes.as_note(row), zone)}\t{row.text}"
