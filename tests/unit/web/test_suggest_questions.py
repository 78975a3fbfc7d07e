"""What a picker's request asks, the keys a report's query names, and the ids of value lists."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from webapp.errors import BadSuggestion
from webapp.web.suggest import Question, keys_named, question, values_list_id


def test_a_question_from_the_query_or_from_the_input_htmx_names():
    assert question("types", MultiDict()) == Question("types", "", 500)
    assert question("keys", MultiDict({"q": "pl", "limit": "3"})) == Question("keys", "pl", 3)
    # an input of another name: its value is the prefix; `q` says it first
    assert question("types", MultiDict({"A": "sig"}), "sig") == Question("types", "sig", 500)
    assert question("types", MultiDict({"q": "v"}), "sig").prefix == "v"
    # for values, the key's own input asks for its list; with a key, the typed text is a prefix
    assert question("values", MultiDict(), "plan") == Question("values", "", 50, "plan")
    assert question("values", MultiDict({"key": "plan"}), "p") == Question("values", "p", 50,
                                                                          "plan")


def test_every_problem_of_a_question_at_once():
    with pytest.raises(BadSuggestion) as refused:
        question("values", MultiDict({"limit": "51", "key": ""}))
    assert len(refused.value.problems) == 2
    for limit in ("0", "x", "-1", "1.0", "²"):
        with pytest.raises(BadSuggestion):
            question("keys", MultiDict({"limit": limit}))
    with pytest.raises(BadSuggestion, match="at most 100 characters"):
        question("values", MultiDict({"key": "k" * 101}))


def test_the_keys_a_report_query_names():
    query = MultiDict([("A", "signup"), ("A.property", "amount"), ("breakdown", "plan"),
                       ("where", "metadata.page^=/docs"), ("B.where", "metadata.a^b=c"),
                       ("step2.where", "metadata.plan=pro"), ("where", "not a condition"),
                       ("property", "k" * 101)])
    assert keys_named(query) == ["amount", "plan", "page", "a^b"]


def test_a_value_list_id_is_the_key_when_a_selector_can_name_it():
    assert values_list_id("utm_source-2") == "values-utm_source-2"
    for key in ("Plan Name", "utm.source", 'a"b', "é"):
        made = values_list_id(key)
        assert made.startswith("values-") and len(made) == len("values-") + 16
    assert values_list_id("a b") != values_list_id("a c")
