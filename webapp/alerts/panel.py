"""What the pages show of alerts: the rules, those firing now, and the latest notices."""

from __future__ import annotations

from peewee import JOIN

from webapp.alerts.rules import describe
from webapp.models import AlertNotice, AlertRule, SavedReport

RECENT = 20


def _with_trends():
    """Rules with the saved trend each watches, if any (their conditions name it)."""
    return AlertRule.select(AlertRule, SavedReport).join(SavedReport, JOIN.LEFT_OUTER)


def rules_with_conditions(project_id: int) -> list[tuple[AlertRule, str]]:
    query = _with_trends().where(AlertRule.project == project_id).order_by(AlertRule.id)
    return [(rule, describe(rule)) for rule in query]


def firing(project_id: int) -> list[AlertRule]:
    return list(_with_trends().where(AlertRule.project == project_id, AlertRule.active,
                                     AlertRule.state == "firing")
                .order_by(AlertRule.changed_at.desc()))


def recent_notices(project_id: int, limit: int = RECENT) -> list[AlertNotice]:
    """Newest first, each with its rule (one query)."""
    return list(AlertNotice.select(AlertNotice, AlertRule).join(AlertRule)
                .where(AlertNotice.project == project_id)
                .order_by(AlertNotice.at.desc(), AlertNotice.id.desc()).limit(limit))


def dashboard_data(project_id: int) -> dict:
    return {"alerts_firing": [(rule, describe(rule)) for rule in firing(project_id)],
            "alert_notices": recent_notices(project_id, limit=5)}
