"""The condition language and a rule's form: every problem at once."""

from __future__ import annotations

import pytest

from webapp.alerts.rules import Condition, parse_condition, validate
from webapp.models import AlertRule


@pytest.mark.parametrize("text, expected", [
    ("error > 100 in 5 min", Condition("threshold", "error", ">", 100, 5)),
    ("signup < 1 in 12 h", Condition("threshold", "signup", "<", 1, 720)),
    ("  Order Completed>3 in 2 hours ", Condition("threshold", "Order Completed", ">", 3, 120)),
    ("* > 1000 in 1 minute", Condition("threshold", None, ">", 1000, 1)),
    ("'$pageview' spike", Condition("spike", "$pageview", window_minutes=60)),
    ("* DROP", Condition("drop", None, window_minutes=60)),
    ("error > 9223372036854775807 in 5 min",
     Condition("threshold", "error", ">", 2**63 - 1, 5)),  # the largest the column holds
])
def test_conditions(text, expected):
    assert parse_condition(text) == expected


@pytest.mark.parametrize("text, problem", [
    ("error > 100", "write the condition as"),
    ("error >= 100 in 5 min", "write the condition as"),
    ("error > 1 in 5 days", "unknown unit"),
    ("error > 1 in 25 h", "1 minute to 24 hours"),
    ("error > 1 in 0 min", "1 minute to 24 hours"),
    ("x" * 65 + " spike", "1 to 64 characters"),
    ("x" * 10**6 + " > 1 in 5 min", "at most 200 characters"),
    ("error > 99999999999999999999 in 5 min", "the count is at most 9,223,372,036,854,775,807"),
    ("error < 9223372036854775808 in 5 min", "the count is at most 9,223,372,036,854,775,807"),
])
def test_bad_conditions(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_condition(text)


def test_every_problem_of_a_form_at_once():
    _, errors = validate({"name": "", "when": "error spike", "where": "plan=pro",
                          "url": "gopher://x", "format": "xml", "max_per_day": "many",
                          "z": "0", "min_volume": "-1"}, allow_private=True)
    assert set(errors) == {"name", "where", "url", "format", "max_per_day", "z", "min_volume"}
    assert "threshold rules only" in errors["where"]


def test_a_valid_form():
    values, errors = validate({"name": "Pro errors", "when": "error > 5 in 10 min",
                               "where": " plan = pro ", "url": "https://example.com/h"},
                              allow_private=True)
    assert errors == {}
    assert values == {"name": "Pro errors", "kind": "threshold", "event_type": "error",
                      "comparator": ">", "threshold": 5, "window_minutes": 10,
                      "property_key": "plan", "property_value": "pro",
                      "url": "https://example.com/h", "body_format": "standard",
                      "max_per_day": 10, "min_volume": None, "z_score": None}
    rule = AlertRule(**values)
    from webapp.alerts.rules import describe

    assert describe(rule) == "error > 5 in 10 min where plan=pro"
