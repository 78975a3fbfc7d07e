"""`flask alerts ...`: a project's alert rules and their delivery log from the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.alerts import panel, rules
from webapp.cli.params import PROJECT
from webapp.reports import saved

alerts_cli = AppGroup("alerts", help="Alert rules and their deliveries.")


@alerts_cli.command("add")
@click.argument("project", type=PROJECT)
@click.option("--name", required=True, help="what the rule is called in messages")
@click.option("--when", required=True,
              help="'error > 100 in 5 min', 'signup < 1 in 12 h', 'checkout spike', '* drop', "
                   "'trend \"Revenue per signup\" B > 100', 'trend 12 formula spike'")
@click.option("--where", default="", help="property filter key=value (threshold rules on "
                                          "counts)")
@click.option("--url", required=True, help="where to POST the signed notices")
@click.option("--slack", is_flag=True, help="a Slack-compatible body ({\"text\": ...})")
@click.option("--max-per-day", default="10", show_default=True, help="firings sent in 24 h")
@click.option("--z", default="3", show_default=True, help="spike/drop: |z-score| to fire")
@click.option("--min-volume", default="10", show_default=True,
              help="spike/drop: events needed (on a trend: the value needed)")
def add_command(project, name, when, where, url, slack, max_per_day, z, min_volume):
    """Add a rule; prints its destination's signing secret (whsec_...)."""
    values, errors = rules.validate(
        {"name": name, "when": when, "where": where, "url": url,
         "format": "slack" if slack else "standard", "max_per_day": max_per_day, "z": z,
         "min_volume": min_volume}, current_app.config["ALERTS_ALLOW_PRIVATE_DESTINATIONS"],
        saved.outlines(project.id, project.time_zone, datetime.now(UTC)))
    if errors:
        raise click.UsageError("; ".join(f"{field}: {problem}"
                                         for field, problem in errors.items()))
    try:
        rule = rules.create(project, values)
    except ValueError as exc:
        raise click.UsageError(f"when: {rules.sentence(str(exc))}") from None
    click.echo(f"alert rule #{rule.id} {rules.describe(rule)}\nsigning secret {rule.secret}")


@alerts_cli.command("list")
@click.argument("project", type=PROJECT)
def list_command(project):
    """A project's rules: id, condition, state, destination."""
    for rule, condition in panel.rules_with_conditions(project.id):
        state = rule.state if rule.active else "paused"
        click.echo(f"#{rule.id}\t{rule.name}\t{condition}\t{state}\t{rule.url}")


@alerts_cli.command("set")
@click.argument("project", type=PROJECT)
@click.argument("rule_id", type=int)
@click.argument("action", type=click.Choice(["pause", "resume", "delete"]))
def set_command(project, rule_id, action):
    """Pause, resume or delete a rule."""
    done = (rules.delete(project.id, rule_id) if action == "delete"
            else rules.set_active(project.id, rule_id, action == "resume"))
    if not done:
        raise click.UsageError(f"no rule #{rule_id} in {project.handle!r}")
    click.echo(f"rule #{rule_id}: {action} done")


@alerts_cli.command("log")
@click.argument("project", type=PROJECT)
def log_command(project):
    """The latest notices and how their delivery went."""
    for n in panel.recent_notices(project.id):
        next_try = f"next try {n.next_try_at:%H:%M:%S}" if n.status == "pending" else ""
        click.echo(f"{n.at:%Y-%m-%d %H:%M:%S}\t{n.rule.name}\t{n.kind}\t{n.status}\t"
                   f"{n.attempts} attempt(s)\t{n.last_code or ''}\t{next_try}")
