"""Command-line tasks: `flask db migrate`, `flask bootstrap`, projects, rollups, dead letters
(alerts in alerts_cli.py)."""

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


def _project(handle: str):
    """The project "<org>/<slug>" names, or the only one with that bare slug."""
    from webapp.models import Organization, Project, split_handle

    organization, slug = split_handle(handle)
    query = Project.select(Project, Organization).join(Organization).where(Project.slug == slug)
    if organization is not None:
        query = query.where(Organization.slug == organization)
    found = list(query.limit(2))
    if len(found) != 1:
        raise click.UsageError(f"no project {handle!r}" if not found else
                               f"several organizations have a project {slug!r}: "
                               f"name it as <organization>/{slug}")
    return found[0]


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
    """List a project's keys and signing secrets by kind and number (never the secrets)."""
    from webapp.models import ApiKey, SigningSecret

    project = _project(project_slug)
    rows = [(key.kind, key.id, key.prefix, key.name, key.revoked_at)
            for key in ApiKey.select().where(ApiKey.project == project).order_by(ApiKey.id)]
    rows += [(SIGNING, secret.id, secret.secret[:10], secret.name, secret.revoked_at)
             for secret in SigningSecret.select().where(SigningSecret.project == project)
             .order_by(SigningSecret.id)]
    for kind, number, prefix, name, revoked_at in rows:
        state = f"revoked {revoked_at:%Y-%m-%d}" if revoked_at else "live"
        click.echo(f"#{number}\t{kind}\t{prefix}…\t{name}\t{state}")


SIGNING = "signing-secret"


@projects_cli.command("revoke")
@click.argument("project_slug")
@click.argument("kind", type=click.Choice(["ingest", "read", SIGNING]))
@click.argument("number", type=int)
def revoke_key_command(project_slug, kind, number):
    """Revoke a key or signing secret, named by its kind and number (`projects keys` lists
    them); it stops working within seconds."""
    from webapp.tenancy.tenants import TenantError, revoke_key, revoke_signing_secret

    project = _project(project_slug)
    try:
        if kind == SIGNING:
            revoke_signing_secret(project, number)
        else:
            revoke_key(project, number, kind)
    except TenantError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} #{number} revoked")


@projects_cli.command("limits")
@click.argument("project_slug")
@click.option("--key", "key_id", type=int, default=None, help="an ingest key's own (see `keys`)")
@click.option("--requests", default=None,
              help="requests limit, e.g. '50000 per 10 seconds' ('' for the default)")
@click.option("--events", default=None, help="events limit, e.g. '1000000 per 10 seconds'")
def limits_command(project_slug, key_id, requests, events):
    """Show or set the /webhook limits of a project or of one of its ingest keys."""
    from flask import current_app

    from webapp.models import ApiKey
    from webapp.tenancy.tenants import TenantError, set_limits

    project = _project(project_slug)
    owner = project if key_id is None else ApiKey.get_or_none(
        ApiKey.id == key_id, ApiKey.project == project)
    if owner is None:
        raise click.UsageError(f"no key #{key_id} in project {project_slug!r}")
    if requests is not None or events is not None:
        try:
            set_limits(project, owner.request_limit or "" if requests is None else requests,
                       owner.event_limit or "" if events is None else events, key_id)
        except TenantError as exc:
            raise click.UsageError(str(exc)) from None
        owner = type(owner).get_by_id(owner.id)
    config = current_app.config
    fallback = ("its project's, else the default" if key_id is not None else "the default")
    click.echo(f"requests: {owner.request_limit or fallback} "
               f"(default {config['WEBHOOK_RATE_LIMIT']})\n"
               f"events: {owner.event_limit or fallback} (default {config['WEBHOOK_EVENT_LIMIT']})")


@projects_cli.command("signing-secret")
@click.argument("project_slug")
@click.option("--name", default="", help="which sender uses it")
def add_secret_command(project_slug, name):
    """Add a Standard Webhooks secret (whsec_...); senders sign deliveries to /webhook/<project>."""
    from webapp.tenancy.tenants import add_signing_secret

    secret = add_signing_secret(_project(project_slug), name)
    click.echo(f"signing secret #{secret.id} {secret.secret}")


@projects_cli.command("retention")
@click.argument("project_slug")
@click.argument("days", required=False, type=click.IntRange(min=8))
def retention_command(project_slug, days):
    """Days of raw events the project keeps (at least 8); without DAYS, back to RETENTION_DAYS.
    Rollups, and so statistics, are kept regardless."""
    project = _project(project_slug)
    project.retention_days = days
    project.save(only=["retention_days"])
    shown = f"{days} days" if days else f"RETENTION_DAYS ({current_app.config['RETENTION_DAYS']})"
    click.echo(f"{project.slug!r} keeps raw events for {shown}")
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


partitions_cli = AppGroup("partitions", help="Daily partitions of the events table.")


@partitions_cli.command("maintain")
def maintain_partitions_command():
    """Create the days ahead, split stray days out of the default partition, drop expired days
    (the workers do this every PARTITION_CHECK_SECONDS)."""
    from datetime import UTC, datetime

    from webapp.reports import cache as report_cache
    from webapp.store import partitions

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
    from webapp.store import partitions

    for name, rows, size in partitions.sizes(db.database):
        click.echo(f"{name}\t~{rows} rows\t{size}")


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
    app.cli.add_command(partitions_cli)
    app.cli.add_command(deadletter_cli)
    from webapp.cli.alerts import alerts_cli

    app.cli.add_command(alerts_cli)
