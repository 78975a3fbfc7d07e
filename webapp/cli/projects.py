"""`flask projects ...`: organizations, projects, keys, signing secrets and a project's
settings (limits, retention, time zone). A project is named "<organization>/<slug>", or by a
bare slug only one project has."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.cli.params import PROJECT
from webapp.errors import TenantError
from webapp.models import ApiKey, Organization, SigningSecret
from webapp.tenancy import tenants

projects_cli = AppGroup("projects", help="Organizations, projects, keys and signing secrets.")
SIGNING = "signing-secret"


@projects_cli.command("create")
@click.argument("name")
@click.option("--org", "org_slug", default="default", show_default=True,
              help="organization slug (created when missing)")
@click.option("--slug", default=None, help="URL name; derived from NAME when omitted")
def create_project_command(name, org_slug, slug):
    """Create a project with one ingest key and one read token (shown once)."""
    organization = (Organization.get_or_none(Organization.slug == org_slug)
                    or tenants.create_organization(org_slug, org_slug))
    project = tenants.create_project(organization, name, slug)
    _, ingest = tenants.create_key(project, "ingest", "first ingest key")
    _, read = tenants.create_key(project, "read", "first read token")
    click.echo(f"project {project.slug!r} in {organization.slug!r}\n"
               f"ingest key {ingest}\nread token {read}\n(shown once: store them now)")


@projects_cli.command("key")
@click.argument("project", type=PROJECT)
@click.option("--kind", type=click.Choice(list(tenants.KEY_PREFIXES)), default="ingest",
              show_default=True, help="annotate: a key that may only write annotations")
@click.option("--name", default="", help="what the key is for")
def create_key_command(project, kind, name):
    """Add a key to a project; prints it once."""
    key, secret = tenants.create_key(project, kind, name)
    click.echo(f"{kind} key #{key.id} {secret}\n(shown once: store it now)")


@projects_cli.command("keys")
@click.argument("project", type=PROJECT)
def list_keys_command(project):
    """List a project's keys and signing secrets by kind and number (never the secrets)."""
    rows = [(key.kind, key.id, key.prefix, key.name, key.revoked_at)
            for key in ApiKey.select().where(ApiKey.project == project).order_by(ApiKey.id)]
    rows += [(SIGNING, secret.id, secret.secret[:10], secret.name, secret.revoked_at)
             for secret in SigningSecret.select().where(SigningSecret.project == project)
             .order_by(SigningSecret.id)]
    for kind, number, prefix, name, revoked_at in rows:
        state = f"revoked {revoked_at:%Y-%m-%d}" if revoked_at else "live"
        click.echo(f"#{number}\t{kind}\t{prefix}…\t{name}\t{state}")


@projects_cli.command("revoke")
@click.argument("project", type=PROJECT)
@click.argument("kind", type=click.Choice([*tenants.KEY_PREFIXES, SIGNING]))
@click.argument("number", type=int)
def revoke_key_command(project, kind, number):
    """Revoke a key or signing secret, named by its kind and number (`projects keys` lists
    them); it stops working within seconds."""
    try:
        if kind == SIGNING:
            tenants.revoke_signing_secret(project, number)
        else:
            tenants.revoke_key(project, number, kind)
    except TenantError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} #{number} revoked")


@projects_cli.command("limits")
@click.argument("project", type=PROJECT)
@click.option("--key", "key_id", type=int, default=None, help="an ingest key's own (see `keys`)")
@click.option("--requests", default=None,
              help="requests limit, e.g. '50000 per 10 seconds' ('' for the default)")
@click.option("--events", default=None, help="events limit, e.g. '1000000 per 10 seconds'")
def limits_command(project, key_id, requests, events):
    """Show or set the /webhook limits of a project or of one of its ingest keys."""
    owner = project if key_id is None else ApiKey.get_or_none(
        ApiKey.id == key_id, ApiKey.project == project)
    if owner is None:
        raise click.UsageError(f"no key #{key_id} in project {project.handle!r}")
    if requests is not None or events is not None:
        try:
            tenants.set_limits(project, owner.request_limit or "" if requests is None
                               else requests,
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
@click.argument("project", type=PROJECT)
@click.option("--name", default="", help="which sender uses it")
def add_secret_command(project, name):
    """Add a Standard Webhooks secret (whsec_...); senders sign deliveries to /webhook/<project>."""
    secret = tenants.add_signing_secret(project, name)
    click.echo(f"signing secret #{secret.id} {secret.secret}")


@projects_cli.command("retention")
@click.argument("project", type=PROJECT)
@click.argument("days", required=False, type=click.IntRange(min=8))
def retention_command(project, days):
    """Days of raw events the project keeps (at least 8); without DAYS, back to RETENTION_DAYS.
    Rollups, and so statistics, are kept regardless."""
    project.retention_days = days
    project.save(only=["retention_days"])
    shown = f"{days} days" if days else f"RETENTION_DAYS ({current_app.config['RETENTION_DAYS']})"
    click.echo(f"{project.slug!r} keeps raw events for {shown}")


@projects_cli.command("time-zone")
@click.argument("project", type=PROJECT)
@click.argument("name")
def time_zone_command(project, name):
    """Set a project's IANA time zone (e.g. Asia/Kolkata): its days and weeks in reports."""
    try:
        tenants.set_time_zone(project, name)
    except TenantError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"time zone of {project.handle!r} is now {name}")
