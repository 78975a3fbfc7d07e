"""The condition language and a rule's form: every problem at once; rules on saved trends
name one of the project's own, by name or number, and something it has."""

from __future__ import annotations

from decimal import Decimal

import pytest

from webapp.alerts.rules import Condition, describe, parse_condition, validate
from webapp.models import AlertRule, SavedReport
from webapp.reports.saved import Outline


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
                      "max_per_day": 10, "min_volume": None, "z_score": None,
                      "saved_report": None, "series": None}
    rule = AlertRule(**values)
    assert describe(rule) == "error > 5 in 10 min where plan=pro"


@pytest.mark.parametrize("text, expected", [
    ('trend "Revenue per signup" B > 100',
     Condition("threshold", None, ">", Decimal("100"), None, "Revenue per signup", "B")),
    ("trend 'Say \"hi\"' formula < -0.25",
     Condition("threshold", None, "<", Decimal("-0.25"), None, 'Say "hi"', "formula")),
    ("TREND 12 Formula SPIKE", Condition("spike", None, window_minutes=None, trend=12,
                                         series="formula")),
    ("trend #7 c drop", Condition("drop", None, window_minutes=None, trend=7, series="C")),
    ('trend "Two  spaces"   a>3.5', Condition("threshold", None, ">", Decimal("3.5"), None,
                                               "Two spaces", "A")),
    ("trend > 5 in 5 min", Condition("threshold", "trend", ">", 5, 5)),  # a type named trend
    ("trend spike", Condition("spike", "trend", window_minutes=60)),
])
def test_trend_conditions(text, expected):
    assert parse_condition(text) == expected


@pytest.mark.parametrize("text, problem", [
    ('trend "Revenue" F > 1', "a series A to E or the formula"),
    ('trend "Revenue" B >= 1', "write a rule on a saved trend as"),
    ('trend "Revenue" B > 1 in 5 min', "write a rule on a saved trend as"),
    ('trend "Revenue" B > 1e3', "write a rule on a saved trend as"),
    ('trend "Revenue B > 1', "write a rule on a saved trend as"),
    ("trend 12 B", "write a rule on a saved trend as"),
    ("trend 12 B > " + "9" * 31, "at most 30 digits"),
])
def test_bad_trend_conditions(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_condition(text)


SAVED = [Outline(3, "Revenue per signup", "trends", ("A", "B", "formula")),
         Outline(4, "Signups", "trends", ("A",), cumulative=True),
         Outline(5, "Checkout funnel", "funnel"),
         Outline(6, "Fixed", "trends", ("A",), problems=("its range ends on a fixed date",)),
         Outline(7, "Twice", "trends", ("A",)), Outline(8, "Twice", "trends", ("A",))]


def trend_rule(when: str, saved=SAVED, **extra) -> tuple[dict, dict]:
    return validate({"name": "R", "when": when, "url": "https://example.com/h", **extra},
                    allow_private=True, saved=saved)


def test_a_rule_on_a_saved_trend():
    values, errors = trend_rule('trend "revenue per SIGNUP" formula > 0.5')
    assert errors == {}
    assert (values["saved_report"], values["series"], values["kind"], values["threshold"],
            values["window_minutes"], values["event_type"]) == (
        3, "formula", "threshold", Decimal("0.5"), None, None)
    values, errors = trend_rule("trend 3 B spike", z="2.5", min_volume="0")
    assert errors == {} and (values["saved_report"], values["series"], values["kind"],
                             values["z_score"], values["min_volume"]) == (3, "B", "spike", 2.5, 0)


@pytest.mark.parametrize("when, problem", [
    ('trend "Nothing" A > 1', 'No saved trend named "Nothing" in this project (its saved '
                              'trends: "Fixed", "Revenue per signup", "Signups", "Twice", '
                              '"Twice")'),
    ("trend 99 A > 1", "No saved report #99 in this project"),
    ('trend "Checkout funnel" A > 1', '"Checkout funnel" is a saved funnel report, not a trend'),
    ("trend 3 C > 1", 'The saved trend "Revenue per signup" has no series C (it has A, B, '
                      'formula)'),
    ("trend 4 formula > 1", 'The saved trend "Signups" has no formula (it has A)'),
    ("trend 4 A spike", 'The saved trend "Signups" is cumulative'),
    ('trend "Fixed" A > 1', 'The saved trend "Fixed" cannot be watched: its range ends on a '
                            'fixed date'),
    ('trend "Twice" A > 1', '2 saved reports are named "Twice": name one by its number (trend '
                            '7, trend 8)'),
])
def test_a_rule_on_a_trend_it_cannot_watch(when, problem):
    _, errors = trend_rule(when)
    assert set(errors) == {"when"} and errors["when"].startswith(problem), errors["when"]


def test_only_the_projects_own_saved_reports_are_found():
    """The pages and the CLI hand `validate` the rule's project's saved reports only: a
    number of another project's report is not among them."""
    _, errors = trend_rule("trend 3 A > 1", saved=[])
    assert errors["when"] == "No saved report #3 in this project."
    _, errors = trend_rule('trend "Revenue per signup" A > 1', saved=[])
    assert "(save one from the Trends report first)" in errors["when"]


def test_a_trend_rule_takes_no_property_filter_and_every_problem_is_listed():
    _, errors = trend_rule('trend "Revenue per signup" A > 1', where="plan=pro", z="0")
    assert set(errors) == {"where", "z"} and "a saved trend" in errors["where"]


@pytest.mark.parametrize("name, written", [
    ("Revenue", 'trend "Revenue" B > 99.5'), ('Say "hi"', "trend 'Say \"hi\"' B > 99.5"),
    ("""Both "'""", "trend 3 B > 99.5")])
def test_a_trend_rule_is_described_as_it_is_written(name, written):
    rule = AlertRule(kind="threshold", comparator=">", threshold=Decimal("99.50"), series="B",
                     saved_report=SavedReport(id=3, name=name))
    assert describe(rule) == written
    assert parse_condition(written).series == "B"
    spike = AlertRule(kind="spike", series="formula", z_score=3.0, min_volume=0,
                      saved_report=SavedReport(id=3, name="Revenue"))
    assert describe(spike) == 'trend "Revenue" formula spike (z ≥ 3, volume ≥ 0)'
