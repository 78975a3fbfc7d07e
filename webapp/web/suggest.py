"""Pickers over HTTP: a project's event types, property keys and the top values of a key, as
JSON under the read token (GET /suggest/types, /suggest/keys, /suggest/values) and as
`<datalist>` fragments for the pages (GET /projects/<project>/suggest/...), which htmx fetches
as a user types; and the lists a page renders at once (templates/_pickers.html). Thin views
over webapp.reads.suggestions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Blueprint, current_app, get_template_attribute, request
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict

from webapp.errors import BadSuggestion, IndexUnavailable
from webapp.reads import filters, suggestions
from webapp.reads.suggestions import Suggestion
from webapp.responses import ok
from webapp.tenancy import accounts, policy
from webapp.tenancy.projects import Handle

bp = Blueprint("suggest", __name__)
pages = Blueprint("suggest_pages", __name__)
KINDS = ("types", "keys", "values")
KIND = f"any({', '.join(KINDS)}):kind"
MOST = {"types": suggestions.MAX_TYPES, "keys": suggestions.MAX_KEYS,
        "values": suggestions.MAX_VALUES}
OWN_PARAMETERS = ("q", "key", "limit", "project")
TOP_KEYS_SHOWN = 5  # a page lists the values of its most frequent keys, and of those it names
PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Question:
    """What a picker asks: a kind of suggestion, a prefix, at most how many, of which key."""

    kind: str
    prefix: str = ""
    limit: int = 0
    key: str | None = None


def question(kind: str, args, typed: str | None = None) -> Question:
    """The question of a request's query; raises BadSuggestion listing every problem.

    `typed` is the value of the input that asked, when htmx names one that is not one of ours
    (HX-Trigger-Name): an input named `A` asks `/suggest/types` with `A=sig`. For values, it is
    the key when the query names none (the key's input asks for its values list), else the
    prefix."""
    problems: list[str] = []
    most, limit = MOST[kind], MOST[kind]
    if text := args.get("limit", ""):
        if text.isascii() and text.isdigit() and 1 <= int(text) <= most:
            limit = int(text)
        else:
            problems.append(f'"limit" must be a whole number from 1 to {most}, not "{text}"')
    key, prefix = None, args.get("q")
    if kind == "values":
        key = args.get("key")
        if key is None and typed is not None:
            key, typed = typed, None
        if not key:
            problems.append('"key" is required: the metadata key whose values to suggest, '
                            "e.g. key=plan")
        elif len(key) > suggestions.MAX_CHARS:
            problems.append(f'"key" is at most {suggestions.MAX_CHARS} characters: longer keys '
                            "are not indexed")
    if prefix is None:
        prefix = typed or ""
    if problems:
        raise BadSuggestion(problems)
    return Question(kind, prefix, limit, key)


def answer(project_id: int, asked: Question) -> tuple[list[Suggestion], dict]:
    """The suggestions for `asked` and the JSON answer's data; IndexUnavailable (503) while
    Redis is away, but for event types, which the rollups then give."""
    redis = current_app.extensions["redis"]
    if asked.kind == "types":
        found, since = suggestions.event_types(redis, project_id, datetime.now(UTC),
                                               asked.prefix, asked.limit)
        return found, suggestions.types_answer(found, since, asked.prefix)
    try:
        if asked.kind == "keys":
            found = suggestions.property_keys(redis, project_id, asked.prefix, asked.limit)
            return found, suggestions.keys_answer(found, asked.prefix)
        found = suggestions.property_values(redis, project_id, asked.key, asked.prefix,
                                            asked.limit)
    except RedisError:
        raise IndexUnavailable() from None
    return found, suggestions.values_answer(found, asked.key, asked.prefix)


@bp.get(f"/suggest/<{KIND}>")
def suggest_json(kind: str):
    project_id = policy.read_project_id()
    return ok(answer(project_id, question(kind, request.args))[1])


# ---- pages ----------------------------------------------------------------------------------

def values_list_id(key: str) -> str:
    """The id of the datalist of a key's values: `values-<key>` when the key is made of ASCII
    letters, digits, `_` and `-` (an id a selector names without escapes), else `values-`
    and a digest of the key."""
    if PLAIN_ID.fullmatch(key):
        return f"values-{key}"
    return "values-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def list_id(asked: Question) -> str:
    if asked.kind == "values":
        return values_list_id(asked.key)
    return {"types": "event-types", "keys": "property-keys"}[asked.kind]


def typed_value() -> str | None:
    """The value of the input whose htmx request this is (HX-Trigger-Name), if it is not one
    of our own parameters."""
    name = request.headers.get("HX-Trigger-Name")
    if not name or name in OWN_PARAMETERS:
        return None
    return request.args.get(name)


@pages.get(f"/projects/<project:slug>/suggest/<{KIND}>")
@accounts.login_required
def suggest_fragment(slug: Handle, kind: str):
    """One `<datalist>` (templates/_pickers.html), to swap in by its id, or whose options to
    take (`hx-select="option"`) into a list of another id."""
    project = policy.user_project(slug)[2]
    asked = question(kind, request.args, typed_value())
    found = answer(project.id, asked)[0]
    return get_template_attribute("_pickers.html", "datalist")(list_id(asked), kind, found)


@dataclass(frozen=True)
class PickerLists:
    """What a page's pickers offer at once (templates/_pickers.html `pickers`)."""

    types: list[Suggestion]
    keys: list[Suggestion]
    values: dict[str, list[Suggestion]] = field(default_factory=dict)


def keys_named(args) -> list[str]:
    """The metadata keys a report's query names: properties (`property`, `A.property`), the
    breakdown, and the keys of conditions (`where`, `A.where`, `step2.where`)."""
    named: list[str] = []
    for name, value in args.items(multi=True):
        if name in ("property", "breakdown") or name.endswith(".property"):
            named.append(value)
        elif name == "where" or name.endswith(".where"):
            if found := filters.condition(value, name, []):  # (a bad one is the report's 400)
                named.append(found.key)
    return [key for key in dict.fromkeys(named) if 0 < len(key) <= suggestions.MAX_CHARS]


def page_lists(project_id: int, args=None) -> PickerLists:
    """The project's event types and keys, and the values of its TOP_KEYS_SHOWN most frequent
    keys and of those `args` (a report's query) names: three round trips to Redis, at worst
    a cached minute's query of the rollups. While Redis is away, only the event types."""
    redis = current_app.extensions["redis"]
    types = suggestions.event_types(redis, project_id, datetime.now(UTC))[0]
    try:
        keys = suggestions.property_keys(redis, project_id)
        shown = [s.value for s in keys[:TOP_KEYS_SHOWN]] + keys_named(args or MultiDict())
        values = suggestions.values_of_keys(redis, project_id, list(dict.fromkeys(shown)))
    except RedisError:
        return PickerLists(types, [])
    return PickerLists(types, keys, {key: found for key, found in values.items() if found})
