"""The `flask` commands, one module per command group: `flask db migrate` and `flask bootstrap`
(database.py), `flask projects ...`, `flask alerts ...`, `flask annotations ...`, `flask
rollups rebuild`, `flask properties rebuild`, `flask partitions ...` and `flask deadletter ...`."""

from __future__ import annotations

from flask import Flask

from webapp.cli import (
    alerts,
    database,
    deadletters,
    notes,
    partitions,
    projects,
    properties,
    rollups,
)


def init_app(app: Flask) -> None:
    app.cli.add_command(database.db_cli)
    app.cli.add_command(database.bootstrap_command)
    app.cli.add_command(projects.projects_cli)
    app.cli.add_command(rollups.rollups_cli)
    app.cli.add_command(properties.properties_cli)
    app.cli.add_command(partitions.partitions_cli)
    app.cli.add_command(deadletters.deadletter_cli)
    app.cli.add_command(alerts.alerts_cli)
    app.cli.add_command(notes.annotations_cli)
