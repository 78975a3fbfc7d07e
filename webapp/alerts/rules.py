"""Alert rules: the condition language shared by the pages and the CLI (on counts, or on one
of the project's saved trends), and saving rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from peewee import IntegrityError

from webapp.alerts import destinations
from webapp.db import database
from webapp.models import AlertRule, Project
from webapp.tenancy.values import new_secret

MAX_WINDOW_MINUTES = 24 * 60  # the per-minute rollups of one day at most
MAX_THRESHOLD = 2**63 - 1  # counts are bigints: none reaches past it
BASELINE_MINUTES = 60  # spike and drop rules: the last hour against the same hour of past weeks
UNITS = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
         "h": 60, "hr": 60, "hour": 60, "hours": 60}
THRESHOLD = re.compile(r"^(?P<type>.+?)\s*(?P<cmp>[<>])\s*(?P<n>\d+)\s+in\s+(?P<w>\d+)\s*"
                       r"(?P<unit>[a-z]+)$", re.IGNORECASE)
CHANGE = re.compile(r"^(?P<type>.+?)\s+(?P<kind>spike|drop)$", re.IGNORECASE)
# `trend "Revenue per signup" B > 100`, `trend 12 formula spike`: a saved trend by its name
# (quoted) or number, what is watched in it, and a threshold or spike/drop.
TREND_START = re.compile(r"^trend\s+[\"'#0-9]", re.IGNORECASE)
TREND = re.compile(r"^trend\s+(?:#?(?P<id>[0-9]{1,9})|\"(?P<double>[^\"]+)\"|'(?P<single>[^']+)')"
                   r"\s+(?P<series>[a-e]|formula)(?:\s*(?P<cmp>[<>])\s*"
                   r"(?P<n>-?[0-9]+(?:\.[0-9]+)?)|\s+(?P<kind>spike|drop))$", re.IGNORECASE)
MAX_THRESHOLD_DIGITS = 30
MAX_TREND_RULES = 20  # rules on saved trends per project: each costs a report every check
FORMATS = ("standard", "slack")
EXAMPLES = "e.g. `error > 100 in 5 min`, `signup < 1 in 12 h`, `checkout spike`, `* drop`"
TREND_EXAMPLES = 'e.g. `trend "Revenue per signup" B > 100`, `trend 12 formula spike`'


@dataclass(frozen=True)
class Condition:
    """What a rule watches: `kind` threshold (comparator, threshold, window) or spike/drop, of
    a count, or (`trend`: its number or its name as written) of a saved trend's `series`."""

    kind: str
    event_type: str | None  # None: every event type
    comparator: str | None = None
    threshold: int | Decimal | None = None
    window_minutes: int | None = BASELINE_MINUTES
    trend: int | str | None = None
    series: str | None = None  # A-E or "formula"


class SavedTrend(Protocol):
    """A project's saved report as a rule on it needs to know it
    (`webapp.reports.saved.Outline`)."""

    id: int
    name: str
    kind: str
    targets: tuple[str, ...]  # a trend's series letters, and "formula" when it has one
    cumulative: bool
    problems: tuple[str, ...]  # why a rule cannot watch it


def parse_condition(text: str) -> Condition:
    """`error > 100 in 5 min`, `signup < 1 in 12 h`, `checkout spike`, `* drop`; `*` is any
    type; `trend "Revenue per signup" B > 99.5`, `trend 12 formula spike`. Raises ValueError
    saying what is wrong."""
    text = " ".join(text.split())
    if len(text) > 200:
        raise ValueError("a condition is at most 200 characters")
    if TREND_START.match(text):
        return _trend_condition(text)
    if match := THRESHOLD.match(text):
        unit = UNITS.get(match["unit"].lower())
        if unit is None:
            raise ValueError(f"unknown unit {match['unit']!r}: use min or h")
        minutes = int(match["w"]) * unit
        if not 1 <= minutes <= MAX_WINDOW_MINUTES:
            raise ValueError("the window is 1 minute to 24 hours")
        threshold = int(match["n"])
        if threshold > MAX_THRESHOLD:
            raise ValueError(f"the count is at most {MAX_THRESHOLD:,}")
        return Condition("threshold", _type(match["type"]), match["cmp"], threshold, minutes)
    if match := CHANGE.match(text):
        return Condition(match["kind"].lower(), _type(match["type"]))
    raise ValueError(f"write the condition as {EXAMPLES}")


def _trend_condition(text: str) -> Condition:
    match = TREND.match(text)
    if match is None:
        raise ValueError(f"write a rule on a saved trend as {TREND_EXAMPLES} (a series A to E "
                         f"or the formula, then > or < a number, or spike or drop)")
    series = match["series"].upper() if len(match["series"]) == 1 else "formula"
    reference = int(match["id"]) if match["id"] else " ".join(
        (match["double"] or match["single"]).split())
    if match["kind"]:
        return Condition(match["kind"].lower(), None, window_minutes=None, trend=reference,
                         series=series)
    number = match["n"]
    if len(number.replace("-", "").replace(".", "")) > MAX_THRESHOLD_DIGITS:
        raise ValueError(f"a threshold has at most {MAX_THRESHOLD_DIGITS} digits")
    return Condition("threshold", None, match["cmp"], Decimal(number), None, reference, series)


def _type(text: str) -> str | None:
    name = text.strip().strip("\"'`")
    if name == "*":
        return None
    if not 1 <= len(name) <= 64:
        raise ValueError("an event type is 1 to 64 characters (or * for every type)")
    return name


def quoted(report) -> str:
    """A saved trend as a condition names it: its name in quotes, or its number when the name
    holds both kinds of quote."""
    if '"' not in report.name:
        return f'"{report.name}"'
    return f"'{report.name}'" if "'" not in report.name else str(report.id)


def plain(number) -> str:
    """A threshold as written: 100, 0.25, -3.5 (no exponent, no trailing zeros)."""
    return format(Decimal(number).normalize(), "f")


def describe(rule: AlertRule) -> str:
    """The rule's condition as it would be written."""
    if rule.series is not None:  # on a saved trend
        name = f"trend {quoted(rule.saved_report)} {rule.series}"
        if rule.kind != "threshold":
            return f"{name} {rule.kind} (z ≥ {rule.z_score:g}, volume ≥ {rule.min_volume})"
        return f"{name} {rule.comparator} {plain(rule.threshold)}"
    name = rule.event_type if rule.event_type is not None else "*"
    if rule.kind != "threshold":
        text = f"{name} {rule.kind} (z ≥ {rule.z_score:g}, volume ≥ {rule.min_volume})"
    else:
        w = rule.window_minutes
        window = f"{w // 60} h" if w % 60 == 0 else f"{w} min"
        text = f"{name} {rule.comparator} {rule.threshold} in {window}"
    if rule.property_key:
        text += f" where {rule.property_key}={rule.property_value}"
    return text


def _number(raw, default, cast, low, high, what):
    raw = "" if raw is None else str(raw).strip()
    if not raw:
        return default, None
    try:
        value = cast(raw)
    except ValueError:
        return None, f"{what} must be a number"
    if not low <= value <= high:
        return None, f"{what} must be between {low} and {high}"
    return value, None


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _named(trend: SavedTrend | None, reference: int | str) -> str:
    return f'"{trend.name}"' if trend is not None else f'"{reference}"'


def find_trend(condition: Condition, saved: Iterable[SavedTrend]) -> SavedTrend:
    """The saved trend a condition names, among `saved` (the rule's project's saved reports
    only), if the condition can watch it; raises ValueError saying why not."""
    saved = list(saved)
    reference = condition.trend
    if isinstance(reference, int):
        found = [report for report in saved if report.id == reference]
        if not found:
            raise ValueError(f"no saved report #{reference} in this project")
    else:
        found = [report for report in saved if " ".join(report.name.split()) == reference]
        found = found or [report for report in saved
                          if " ".join(report.name.split()).casefold() == reference.casefold()]
        if not found:
            names = sorted(quoted(report) for report in saved if report.kind == "trends")
            raise ValueError(f'no saved trend named "{reference}" in this project' + (
                f" (its saved trends: {', '.join(names[:10])})" if names else
                " (save one from the Trends report first)"))
        if len(found) > 1:
            numbers = ", ".join(f"trend {report.id}" for report in found)
            raise ValueError(f'{len(found)} saved reports are named "{reference}": name one by '
                             f"its number ({numbers})")
    (trend,) = found
    if trend.kind != "trends":
        raise ValueError(f"{_named(trend, reference)} is a saved {trend.kind} report, not a "
                         f"trend")
    if trend.problems:
        raise ValueError(f"the saved trend {_named(trend, reference)} cannot be watched: "
                         + "; ".join(trend.problems))
    if condition.series not in trend.targets:
        has = ", ".join(trend.targets)
        missing = ("no formula" if condition.series == "formula"
                   else f"no series {condition.series}")
        raise ValueError(f"the saved trend {_named(trend, reference)} has {missing} (it has "
                         f"{has})")
    if trend.cumulative and condition.kind != "threshold":
        raise ValueError(f"the saved trend {_named(trend, reference)} is cumulative: its "
                         f"buckets only grow, so a {condition.kind} says nothing; watch it "
                         f"with a threshold, or save the trend without cumulative")
    return trend


def validate(form: dict, allow_private: bool, saved: Iterable[SavedTrend] = ()
             ) -> tuple[dict, dict[str, str]]:
    """The values of a new rule from its form (or CLI options), and every problem by field.
    `saved` are the project's saved reports, among which a rule on a trend finds its own."""
    errors: dict[str, str] = {}
    values: dict = {}
    name = (form.get("name") or "").strip()
    if not 1 <= len(name) <= 100:
        errors["name"] = "Name the rule (at most 100 characters)."
    values["name"] = name
    try:
        condition = parse_condition(form.get("when") or "")
        values.update(kind=condition.kind, event_type=condition.event_type,
                      comparator=condition.comparator, threshold=condition.threshold,
                      window_minutes=condition.window_minutes, saved_report=None, series=None)
        if condition.trend is not None:
            values.update(saved_report=find_trend(condition, saved).id,
                          series=condition.series)
    except ValueError as exc:
        condition, errors["when"] = None, sentence(str(exc))
    where = (form.get("where") or "").strip()
    key = value = None
    if where:
        key, eq, value = (part.strip() for part in where.partition("="))
        if not eq or not 1 <= len(key) <= 100 or len(value) > 200:
            errors["where"] = "Write the property filter as key=value."
        elif condition is not None and condition.trend is not None:
            errors["where"] = ("A property filter works with threshold rules on counts only (a "
                               "rule on a saved trend watches the trend with its own filters).")
        elif condition is not None and condition.kind != "threshold":
            errors["where"] = ("A property filter works with threshold rules only (spike and "
                               "drop rules compare rollups, which keep no properties).")
    values.update(property_key=key or None, property_value=value if key else None)
    if problem := destinations.check_url(form.get("url") or "", allow_private):
        errors["url"] = problem
    values["url"] = (form.get("url") or "").strip()
    body_format = form.get("format") or "standard"
    if body_format not in FORMATS:
        errors["format"] = "Choose standard or slack."
    values["body_format"] = body_format
    for field, default, cast, low, high, what in (
            ("max_per_day", 10, int, 1, 1000, "Firings a day"),
            ("z", 3.0, float, 0.5, 100.0, "The z-score"),
            ("min_volume", 10, int, 0, 10**9, "The minimum volume")):
        number, problem = _number(form.get(field), default, cast, low, high, what)
        if problem:
            errors[field] = problem + "."
        values[field] = number
    if condition is not None and condition.kind == "threshold":
        values["z"] = values["min_volume"] = None
    values["z_score"] = values.pop("z")
    return values, errors


def create(project: Project, values: dict) -> AlertRule:
    """Save a validated rule with a fresh signing secret for its destination. Raises
    ValueError for a rule on a saved trend when the project has MAX_TREND_RULES of them
    already, or the trend was deleted since it was found."""
    on_trend = values.get("saved_report") is not None
    try:
        with database.atomic():
            if on_trend:  # the project's rules on trends are counted one creation at a time
                database.execute_sql("SELECT 1 FROM project WHERE id = %s FOR UPDATE",
                                     (project.id,))
                watching = AlertRule.select().where(AlertRule.project == project.id,
                                                    AlertRule.saved_report.is_null(False))
                if watching.count() >= MAX_TREND_RULES:
                    raise ValueError(f"a project has at most {MAX_TREND_RULES} rules on saved "
                                     f"trends (each computes its trend every check): delete "
                                     f"one first")
            return AlertRule.create(project=project, secret=new_secret(), **values)
    except IntegrityError:
        if not on_trend:
            raise
        raise ValueError("no such saved trend in this project (deleted meanwhile?)") from None


def set_active(project_id: int, rule_id: int, active: bool) -> bool:
    changes = {AlertRule.active: active}
    if not active:  # a paused rule starts again from "ok"
        changes.update({AlertRule.state: "ok", AlertRule.notified: False})
    return bool(AlertRule.update(changes).where(
        AlertRule.id == rule_id, AlertRule.project == project_id).execute())


def delete(project_id: int, rule_id: int) -> bool:
    return bool(AlertRule.delete().where(
        AlertRule.id == rule_id, AlertRule.project == project_id).execute())
