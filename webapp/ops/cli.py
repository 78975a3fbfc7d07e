"""Command-line tasks: `flask db migrate`, `flask bootstrap`."""

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


projects_cli = AppGroup("projects", help="Organizations, projects, keys and signing secrets.")


def _project(slug: str):
    from webapp.models import Project

    project = Project.get_or_none(Project.slug == slug)
    if project is None:
        raise click.UsageError(f"no project {slug!r}")
    return project


@projects_cli.command("create")
@click.argument("name")
@click.option("--org", "org_slug", default="default", show_default=True,
              help="organization slug (created when missing)")
@click.option("--slug", default=None, help="URL name; derived from NAME when omitted")
def create_project_command(name, org_slug, slug):
    """Create a project with one ingest key and one read token (shown once)."""
    from webapp.models import Organization
    from webapp.tenancy.tenants import create_key, create_organization, create_project

    organization = (Organization.get_or_none(Organization.slug == org_slug)
                    or create_organization(org_slug, org_slug))
    project = create_project(organization, name, slug)
    _, ingest = create_key(project, "ingest", "first ingest key")
    _, read = create_key(project, "read", "first read token")
    click.echo(f"project {project.slug!r} in {organization.slug!r}\n"
               f"ingest key {ingest}\nread token {read}\n(shown once: store them now)")


@projects_cli.command("key")
@click.argument("project_slug")
@click.option("--kind", type=click.Choice(["ingest", "read"]), default="ingest", show_default=True)
@click.option("--name", default="", help="what the key is for")
def create_key_command(project_slug, kind, name):
    """Add a key to a project; prints it once."""
    from webapp.tenancy.tenants import create_key

    key, secret = create_key(_project(project_slug), kind, name)
    click.echo(f"{kind} key #{key.id} {secret}\n(shown once: store it now)")


@projects_cli.command("keys")
@click.argument("project_slug")
def list_keys_command(project_slug):
    """List a project's keys (never their secrets)."""
    from webapp.models import ApiKey

    for key in ApiKey.select().where(ApiKey.project == _project(project_slug)):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
        click.echo(f"#{key.id}\t{key.kind}\t{key.prefix}…\t{key.name}\t{state}")


@projects_cli.command("revoke")
@click.argument("project_slug")
@click.argument("key_id", type=int)
def revoke_key_command(project_slug, key_id):
    """Revoke a key; it stops working within seconds."""
    from webapp.tenancy.tenants import revoke_key

    revoke_key(_project(project_slug), key_id)
    click.echo(f"key #{key_id} revoked")


@projects_cli.command("signing-secret")
@click.argument("project_slug")
@click.option("--name", default="", help="which sender uses it")
def add_secret_command(project_slug, name):
    """Add a Standard Webhooks secret (whsec_...); senders sign deliveries to /webhook/<project>."""
    from webapp.tenancy.tenants import add_signing_secret

    secret = add_signing_secret(_project(project_slug), name)
    click.echo(f"signing secret #{secret.id} {secret.secret}")


@projects_cli.command("time-zone")
@click.argument("project_slug")
@click.argument("name")
def time_zone_command(project_slug, name):
    """Set a project's IANA time zone (e.g. Asia/Kolkata): its days and weeks in reports."""
    from webapp.tenancy.tenants import TenantError, set_time_zone

    try:
        set_time_zone(_project(project_slug), name)
    except TenantError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"time zone of {project_slug!r} is now {name}")


rollups_cli = AppGroup("rollups", help="Per-minute and per-hour rollups.")


@rollups_cli.command("rebuild")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              default=None, help="first UTC day to rebuild (default: the oldest event's)")
def rebuild_rollups_command(since):
    """Recompute rollups and unique-user sketches from raw events, a day at a time."""
    from datetime import UTC, datetime

    from webapp.store import rollups

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
    rollups.invalidate_all(redis)
    click.echo(f"rebuilt {len(chunks)} day(s) of rollups from {chunks[0]:%Y-%m-%d}")


deadletter_cli = AppGroup("deadletter", help="Batches that failed after their retries.")


@deadletter_cli.command("list")
def list_dead_letters_command():
    """Dead letters not yet replayed."""
    from webapp.store import deadletters

    letters = list(deadletters.pending())
    for letter in letters:
        click.echo(f"#{letter.id}\tproject {letter.project_id}\t{letter.events} events\t"
                   f"{letter.failed_at:%Y-%m-%d %H:%M:%S}\t{letter.error[:120]}")
    click.echo(f"{len(letters)} dead letter(s) waiting")


@deadletter_cli.command("replay")
@click.option("--id", "letter_id", type=int, default=None, help="only this dead letter")
def replay_dead_letters_command(letter_id):
    """Queue dead letters again; storing is idempotent, so a replay never duplicates."""
    from webapp.ingest import accept
    from webapp.store import deadletters

    letters = [letter for letter in deadletters.pending() if letter_id in (None, letter.id)]
    celery = current_app.extensions["celery"]
    with click.progressbar(letters, label="replaying dead letters") as bar:
        for letter in bar:
            accept.publish(celery, letter.project_id, letter.payload,
                           [f"replay-of-dead-letter-{letter.id}"])
            deadletters.mark_replayed(letter)  # storing is idempotent: a replay never duplicates
    click.echo(f"replayed {len(letters)} dead letter(s), "
               f"{sum(letter.events for letter in letters)} events")


def init_app(app) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(bootstrap_command)
    app.cli.add_command(projects_cli)
    app.cli.add_command(rollups_cli)
    app.cli.add_command(deadletter_cli)
