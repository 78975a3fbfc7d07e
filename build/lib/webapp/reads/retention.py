"""How far back a project's raw events may be read: its retention, or the install's."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from webapp.models import Project


def kept_since(project_id: int, now: datetime) -> datetime:
    """The oldest instant of the project's events still shown. Partitions are shared by every
    project and dropped when the longest retention has passed them, so a project that keeps
    less has its older rows hidden here until their partition goes."""
    days = (Project.select(Project.retention_days).where(Project.id == project_id).scalar()
            or current_app.config["RETENTION_DAYS"])
    return now - timedelta(days=days)
