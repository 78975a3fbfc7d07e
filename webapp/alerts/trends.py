"""Rules on saved trends, judged on a schedule (never after commits): the caller (the worker,
through the report cache) computes each saved trend once per check, and each rule judges what
it watches, a series or the formula, in the trend's latest bucket that has ended: against its
threshold, or against the trend's earlier buckets (a spike or a drop, as `statistics` judges
the counts rules).

A trend that cannot be computed (slower than the check's time limit, no longer valid, or
failing) is counted (`pulseboard_alert_trend_failures_total`), logged when a rule's problem
begins or changes, and written on its rules for the page; they keep their state until a check
computes it again."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from redis import Redis

from webapp import counters
from webapp.alerts.evaluate import fire_or_resolve
from webapp.alerts.rules import MAX_TREND_RULES
from webapp.alerts.statistics import Baseline, change_breached, threshold_breached
from webapp.errors import BadReport, TooSlow
from webapp.models import AlertRule, SavedReport

log = logging.getLogger(__name__)
MIN_HISTORY = 3  # earlier buckets with a value that a spike or a drop is judged against
COUNTED = ("events", "users", "distinct")  # measures that count: Poisson's spread applies
MAX_PROBLEM = 300  # the column's length


def watching(project_id: int) -> list[AlertRule]:
    """The project's active rules on saved trends with their reports: the oldest
    MAX_TREND_RULES (saving refuses more; this bounds a check all the same)."""
    return list(AlertRule.select(AlertRule, SavedReport).join(SavedReport)
                .where(AlertRule.project == project_id, SavedReport.project == project_id,
                       AlertRule.active)
                .order_by(AlertRule.id).limit(MAX_TREND_RULES))


def projects_with_rules() -> list[int]:
    query = (AlertRule.select(AlertRule.project)
             .where(AlertRule.active, AlertRule.saved_report.is_null(False)).distinct())
    return [project_id for (project_id,) in query.tuples()]


def number(value) -> Decimal | None:
    """A trend's JSON value exactly (a float as it was written), None for no value."""
    if value is None:
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def latest_complete(data: dict, now: datetime) -> int | None:
    """The index of the last bucket that has ended by `now` (None: none has yet)."""
    starts = [datetime.fromisoformat(bucket["timestamp"]) for bucket in data["buckets"]]
    ends = starts[1:] + [datetime.fromisoformat(data["to"])]
    ended = [i for i, end in enumerate(ends) if end <= now]
    return ended[-1] if ended else None


def watched(rule: AlertRule, data: dict) -> tuple[list, str, bool]:
    """(its value in each bucket, what it is in words, whether it is a count) of the series
    or formula the rule watches; LookupError when the trend has no such thing."""
    if rule.series == "formula":
        if formula := data.get("formula"):
            return formula["values"], f"the formula {formula['expression']}", False
    else:
        for series in data["series"]:
            if series["letter"] == rule.series:
                return (series["values"], f"{series['letter']} ({series['label']})",
                        series["measure"] in COUNTED)
    missing = "formula" if rule.series == "formula" else f"series {rule.series}"
    raise LookupError(f"the trend has no {missing}")


def shown(value: Decimal) -> str:
    """An exact value for people: 1,234.5."""
    return f"{value.normalize():,f}"


def about(value: float) -> str:
    """A statistic to three significant digits: 11.2, 0.0312, 1,230,000."""
    if not math.isfinite(value):
        return str(value)
    return f"{Decimal(f'{value:.3g}'):,f}"


def bucket_name(data: dict, at: int) -> str:
    """Where the bucket is, in the project's time zone: on 2026-03-09 (Europe/Paris), in the
    hour from 2026-03-09T14:00+01:00."""
    interval, local, zone = data["interval"], data["buckets"][at]["local"], data["timeZone"]
    if interval in ("minute", "hour"):
        return f"in the {interval} from {local}"
    if interval == "day":
        return f"on {local} ({zone})"
    if interval == "week":
        return f"in the week of {local} ({zone})"
    return f"in {local[:7]} ({zone})"


def judge(rule: AlertRule, data: dict, now: datetime) -> tuple[bool, float, str] | None:
    """(breached, value, what it says) for a rule on the computed trend `data`; None when there
    is nothing to judge yet (no bucket has ended, it has no value, too little history)."""
    values, what, counted = watched(rule, data)
    at = latest_complete(data, now)
    value = number(values[at]) if at is not None else None
    if value is None:  # an average of nothing, a division by zero
        return None
    said = f"{what} was {shown(value)} {bucket_name(data, at)}"
    if rule.kind == "threshold":
        return (threshold_breached(rule.comparator, rule.threshold, value), float(value),
                f"{said}; the threshold is {shown(Decimal(rule.threshold))}")
    history = tuple(float(earlier) for earlier in map(number, values[:at]) if earlier is not None)
    if len(history) < MIN_HISTORY:
        return None
    baseline = Baseline(float(value), history, counted)
    return (change_breached(rule.kind, baseline, rule.z_score, rule.min_volume), float(value),
            f"{said}, against {about(baseline.mean)} ± {about(baseline.sigma)} in "
            f"{len(history)} earlier {data['interval']}s, z = {baseline.z:+.1f}")


def computed(redis: Redis, report: SavedReport, compute: Callable[[SavedReport], dict],
             limit_seconds: float) -> tuple[dict | None, str | None]:
    """(the trend, None) or (None, why it could not be computed), the failure counted."""
    try:
        return compute(report), None
    except TooSlow:
        reason = "too_slow"
        problem = f"computing the trend took longer than the {limit_seconds:g} s a check allows"
    except BadReport as exc:
        reason, problem = "invalid", "the saved trend is no longer valid: " + "; ".join(
            exc.problems)
    except Exception:  # counted, logged, tried again at the next check: never in a loop
        log.exception("saved trend %d of project %d could not be computed for its alert rules",
                      report.id, report.project_id)
        reason, problem = "error", "computing the trend failed (the jobs worker's log says why)"
    counters.alert_trend_failed(redis, reason)
    return None, problem


def note(rule: AlertRule, problem: str | None) -> None:
    """Keep why the rule was not judged (None: it was), logged when that changes."""
    problem = problem[:MAX_PROBLEM] if problem else None
    if problem == rule.problem:
        return
    if problem:
        log.warning("alert rule %d (saved trend %d of project %d) not judged: %s", rule.id,
                    rule.saved_report_id, rule.project_id, problem)
    AlertRule.update(problem=problem).where(AlertRule.id == rule.id).execute()


def evaluate(redis: Redis, project_id: int, now: datetime,
             compute: Callable[[SavedReport], dict], limit_seconds: float) -> list[int]:
    """Judge the project's rules on saved trends, computing each trend once with `compute`
    (which gives up after `limit_seconds` with TooSlow); the ids of the notices recorded."""
    notices, results = [], {}
    for rule in watching(project_id):
        report = rule.saved_report
        if report.id not in results:
            results[report.id] = computed(redis, report, compute, limit_seconds)
        data, problem = results[report.id]
        verdict = None
        if data is not None:
            try:
                verdict = judge(rule, data, now)
            except LookupError as exc:
                problem = str(exc)
        note(rule, problem)
        notice = fire_or_resolve(rule, *verdict, now) if verdict is not None else None
        if notice is not None:
            notices.append(notice)
    return notices
