"""Evaluating a project's rules on counts: compute each one's value, and record a notice when a
rule starts or stops being breached (at most `max_per_day` firings sent per rule in 24 hours;
rules on saved trends are judged the same way by `webapp.alerts.trends`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis import Redis

from webapp.alerts import counts
from webapp.alerts.rules import describe
from webapp.alerts.statistics import Baseline, change_breached, threshold_breached
from webapp.db import database
from webapp.models import AlertNotice, AlertRule, Project

DAY = timedelta(days=1)


def active_rules(project_id: int) -> list[AlertRule]:
    """The project's active rules on counts (those on saved trends have their own check)."""
    return list(AlertRule.select().where(AlertRule.project == project_id, AlertRule.active,
                                         AlertRule.saved_report.is_null()))


def projects_with_rules() -> list[int]:
    query = (AlertRule.select(AlertRule.project)
             .where(AlertRule.active, AlertRule.saved_report.is_null()).distinct())
    return [project_id for (project_id,) in query.tuples()]


def judge(rule: AlertRule, by_range: dict, tallies: dict) -> tuple[bool, float, str] | None:
    """(breached, value, what it says) for one rule; None when it cannot be judged yet."""
    if rule.kind == "threshold":
        value = tallies[rule.id] if rule.property_key else by_range.get((rule.id, 0), 0)
        return (threshold_breached(rule.comparator, rule.threshold, value), value,
                f"{value:,} events")
    history = tuple(count for (rule_id, k), count in sorted(by_range.items())
                    if rule_id == rule.id and k > 0)
    baseline = Baseline(by_range.get((rule.id, 0), 0), history)
    if not history:
        return None
    return (change_breached(rule.kind, baseline, rule.z_score, rule.min_volume), baseline.current,
            f"{baseline.current:,} events in the last hour against {baseline.mean:,.1f} "
            f"± {baseline.sigma:,.1f} in the same hour of the past {len(history)} week(s), "
            f"z = {baseline.z:+.1f}")


def evaluate(redis: Redis, project_id: int, now: datetime) -> list[int]:
    """Judge every active rule of the project; returns the ids of the notices recorded."""
    rules = active_rules(project_id)
    if not rules:
        return []
    born = Project.select(Project.created_at).where(Project.id == project_id).scalar()
    by_range = counts.from_rollups(project_id, counts.ranges(rules, now, born))
    tallies = counts.from_tallies(redis, rules, now)
    notices = []
    for rule in rules:
        verdict = judge(rule, by_range, tallies)
        notice = fire_or_resolve(rule, *verdict, now) if verdict is not None else None
        if notice is not None:
            notices.append(notice)
    return notices


def fire_or_resolve(rule: AlertRule, breached: bool, value: float, detail: str,
                    now: datetime) -> int | None:
    """Fire a rule that is now breached, resolve one that no longer is; the notice's id, or
    None when its state stays."""
    if breached and rule.state == "ok":
        return fire(rule, value, f"{rule.name}: {describe(rule)}: {detail}", now)
    if not breached and rule.state == "firing":
        return resolve(rule, value, f"Resolved: {rule.name}: {describe(rule)}: now {detail}",
                       now)
    return None


def sent_today(rule_id: int, now: datetime) -> int:
    return (AlertNotice.select().where(AlertNotice.rule == rule_id, AlertNotice.kind == "fired",
                                       AlertNotice.status != "suppressed",
                                       AlertNotice.at > now - DAY).count())


def fire(rule: AlertRule, value: float, message: str, now: datetime) -> int | None:
    """ok -> firing, once however many evaluations race to it; the notice is sent unless the
    rule has already sent `max_per_day` firings in the last 24 hours."""
    with database.atomic():
        send = sent_today(rule.id, now) < rule.max_per_day
        won = (AlertRule.update(state="firing", notified=send, last_value=value, changed_at=now)
               .where(AlertRule.id == rule.id, AlertRule.state == "ok", AlertRule.active)
               .execute())
        if not won:
            return None
        return record(rule, "fired", value, message, now, send)


def resolve(rule: AlertRule, value: float, message: str, now: datetime) -> int | None:
    """firing -> ok; the "resolved" message goes out when its firing did."""
    with database.atomic():
        row = database.execute_sql(
            "UPDATE alert_rule SET state = 'ok', last_value = %s, changed_at = %s "
            "WHERE id = %s AND state = 'firing' RETURNING notified",
            (value, now, rule.id)).fetchone()
        if row is None:
            return None
        return record(rule, "resolved", value, message, now, row[0])


def record(rule: AlertRule, kind: str, value: float, message: str, now: datetime,
           send: bool) -> int:
    return AlertNotice.insert(
        rule=rule.id, project=rule.project_id, kind=kind, value=value, message=message, at=now,
        status="pending" if send else "suppressed", next_try_at=now if send else None,
    ).execute()
