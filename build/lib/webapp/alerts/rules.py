"""Alert rules: the condition language shared by the pages and the CLI, and saving rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.alerts import destinations
from webapp.models import AlertRule, Project
from webapp.tenancy.values import new_secret

MAX_WINDOW_MINUTES = 24 * 60  # the per-minute rollups of one day at most
MAX_THRESHOLD = 2**63 - 1  # the column is a bigint
BASELINE_MINUTES = 60  # spike and drop rules: the last hour against the same hour of past weeks
UNITS = {"m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
         "h": 60, "hr": 60, "hour": 60, "hours": 60}
THRESHOLD = re.compile(r"^(?P<type>.+?)\s*(?P<cmp>[<>])\s*(?P<n>\d+)\s+in\s+(?P<w>\d+)\s*"
                       r"(?P<unit>[a-z]+)$", re.IGNORECASE)
CHANGE = re.compile(r"^(?P<type>.+?)\s+(?P<kind>spike|drop)$", re.IGNORECASE)
FORMATS = ("standard", "slack")
EXAMPLES = "e.g. `error > 100 in 5 min`, `signup < 1 in 12 h`, `checkout spike`, `* drop`"


@dataclass(frozen=True)
class Condition:
    """What a rule watches: `kind` threshold (comparator, threshold, window) or spike/drop."""

    kind: str
    event_type: str | None  # None: every event type
    comparator: str | None = None
    threshold: int | None = None
    window_minutes: int = BASELINE_MINUTES


def parse_condition(text: str) -> Condition:
    """`error > 100 in 5 min`, `signup < 1 in 12 h`, `checkout spike`, `* drop`; `*` is any
    type. Raises ValueError saying what is wrong."""
    text = " ".join(text.split())
    if len(text) > 200:
        raise ValueError("a condition is at most 200 characters")
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


def _type(text: str) -> str | None:
    name = text.strip().strip("\"'`")
    if name == "*":
        return None
    if not 1 <= len(name) <= 64:
        raise ValueError("an event type is 1 to 64 characters (or * for every type)")
    return name


def describe(rule: AlertRule) -> str:
    """The rule's condition as it would be written."""
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


def validate(form: dict, allow_private: bool) -> tuple[dict, dict[str, str]]:
    """The values of a new rule from its form (or CLI options), and every problem by field."""
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
                      window_minutes=condition.window_minutes)
    except ValueError as exc:
        condition, errors["when"] = None, str(exc).capitalize() + "."
    where = (form.get("where") or "").strip()
    key = value = None
    if where:
        key, eq, value = (part.strip() for part in where.partition("="))
        if not eq or not 1 <= len(key) <= 100 or len(value) > 200:
            errors["where"] = "Write the property filter as key=value."
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
    """Save a validated rule with a fresh signing secret for its destination."""
    return AlertRule.create(project=project, secret=new_secret(), **values)


def set_active(project_id: int, rule_id: int, active: bool) -> bool:
    changes = {AlertRule.active: active}
    if not active:  # a paused rule starts again from "ok"
        changes.update({AlertRule.state: "ok", AlertRule.notified: False})
    return bool(AlertRule.update(changes).where(
        AlertRule.id == rule_id, AlertRule.project == project_id).execute())


def delete(project_id: int, rule_id: int) -> bool:
    return bool(AlertRule.delete().where(
        AlertRule.id == rule_id, AlertRule.project == project_id).execute())
