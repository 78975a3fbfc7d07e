"""Pickers for the report forms' conditions (`metadata.plan=pro`): the keys and values the
project's property index holds, written as conditions, at first from the lists a page renders
and then for what an input holds as it is typed (templates/reports/_conditions.html)."""

from __future__ import annotations

from flask import get_template_attribute
from werkzeug.datastructures import MultiDict

from webapp.errors import BadSuggestion
from webapp.reads import filters
from webapp.web import suggest


def suggest_label(kind: str, count: int) -> str:
    """"about 1,204 events", as the pickers' lists label their options."""
    return str(get_template_attribute("_pickers.html", "count_label")(kind, count))


def first_options(lists: suggest.PickerLists) -> list[tuple[str, str]]:
    """What a condition input suggests at first: `metadata.<key>=<value>` for the values the
    page's pickers hold, then `metadata.<key>=` for the other keys; (value, label) pairs."""
    options = [(str(filters.Condition(key, found.value)), suggest_label("values", found.count))
               for key, values in lists.values.items() for found in values]
    options += [(f"metadata.{found.value}=", suggest_label("keys", found.count))
                for found in lists.keys if found.value not in lists.values]
    return options


def typed_options(project_id: int, typed: str) -> list[tuple[str, str]]:
    """What a condition input suggests as it is typed: the keys that start as typed
    (`metadata.pl` -> `metadata.plan=`), then, once a key and `=` (or `^=`) are typed, that
    key's top values that start as typed after it (`metadata.plan=p` -> `metadata.plan=pro`)."""
    key, equals, prefix = typed.strip().removeprefix("metadata.").partition("=")
    operator = "="
    if key.endswith("^"):
        key, operator = key[:-1], "^="
    try:
        if equals and key:
            asked = suggest.question("values", MultiDict({"key": key, "q": prefix}))
            return [(f"metadata.{key}{operator}{found.value}",
                     suggest_label("values", found.count))
                    for found in suggest.answer(project_id, asked)[0]]
        asked = suggest.question("keys", MultiDict({"q": key}))
    except BadSuggestion:  # a key longer than any indexed: nothing to offer
        return []
    return [(f"metadata.{found.value}=", suggest_label("keys", found.count))
            for found in suggest.answer(project_id, asked)[0]]
